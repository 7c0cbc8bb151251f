//! The body of `GET /api/v3/klines` — a JSON array of 12-element arrays whose
//! fields are strings or numbers — read one element at a time.
//!
//! A small scanner finds where each element of the outer array ends (bracket
//! depth, strings and their escapes) and copies only that element's bytes into
//! a reused buffer of at most [`MAX_ELEMENT`] bytes; `serde_json` then parses
//! that element alone into the raw text of each field. So the file is never
//! held whole: memory is one element, whatever the file's length. A field's
//! text is kept exactly (`serde_json::value::RawValue`), so the number
//! `0.01634790` becomes a `Decimal` without passing through `f64`.
//!
//! Positions are 0-based element indexes (`element [3]`).

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use serde_json::value::RawValue;

use super::{parse, Candle};
use crate::{KlineError, Position};

/// The longest element accepted; a kline is about 150 bytes.
pub(crate) const MAX_ELEMENT: usize = 4096;

/// Where the scanner is in the outer array.
enum State {
    /// Before the opening `[`.
    Start,
    /// After `[`, before the first element.
    First,
    /// After an element.
    Rest,
    /// After the closing `]`.
    End,
}

/// The elements of one JSON file, as candles.
pub(crate) struct JsonElements {
    reader: BufReader<Box<dyn Read>>,
    path: PathBuf,
    state: State,
    index: u64,
    buf: Vec<u8>,
}

impl JsonElements {
    pub(crate) fn new(reader: BufReader<Box<dyn Read>>, path: PathBuf) -> Self {
        Self {
            reader,
            path,
            state: State::Start,
            index: 0,
            buf: Vec::new(),
        }
    }

    /// The next candle, or `None` after the closing `]`.
    pub(crate) fn next_candle(&mut self) -> Result<Option<(Position, Candle)>, KlineError> {
        loop {
            match self.state {
                State::Start => match self.skip_ws()? {
                    Some(b'[') => {
                        self.reader.consume(1);
                        self.state = State::First;
                    }
                    _ => return Err(self.syntax("the file does not start with '['")),
                },
                State::First => {
                    if self.skip_ws()? == Some(b']') {
                        return self.end();
                    }
                    self.state = State::Rest;
                    return self.element().map(Some);
                }
                State::Rest => match self.skip_ws()? {
                    Some(b',') => {
                        self.reader.consume(1);
                        return self.element().map(Some);
                    }
                    Some(b']') => return self.end(),
                    None => return Err(self.syntax("the file ends before the array's closing ']'")),
                    Some(b) => {
                        return Err(self.syntax(format!(
                            "expected ',' or ']' after the previous element, found `{}`",
                            char::from(b)
                        )))
                    }
                },
                State::End => return Ok(None),
            }
        }
    }

    /// Consumes the closing `]`; only whitespace may follow.
    fn end(&mut self) -> Result<Option<(Position, Candle)>, KlineError> {
        self.reader.consume(1);
        self.state = State::End;
        match self.skip_ws()? {
            None => Ok(None),
            Some(_) => Err(self.syntax("unexpected data after the array's closing ']'")),
        }
    }

    /// Reads one element `[...]` and makes it a candle.
    fn element(&mut self) -> Result<(Position, Candle), KlineError> {
        let at = Position::Element(self.index);
        if self.skip_ws()? != Some(b'[') {
            return Err(self.syntax("expected an array `[open_time, open, high, …]`"));
        }
        self.buf.clear();
        let (mut depth, mut in_string, mut escaped) = (0_u32, false, false);
        loop {
            let Some(b) = self.peek()? else {
                return Err(self.syntax("the file ends inside this element"));
            };
            if self.buf.len() == MAX_ELEMENT {
                return Err(self.syntax(format!("the element is longer than {MAX_ELEMENT} bytes")));
            }
            self.reader.consume(1);
            self.buf.push(b);
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        self.index += 1;
        let fields: Vec<&RawValue> = serde_json::from_slice(&self.buf)
            .map_err(|e| self.syntax_at(at, format!("not an array of values ({e})")))?;
        let texts = fields
            .iter()
            .map(|raw| field_text(raw))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.syntax_at(at, format!("a string field is invalid ({e})")))?;
        let refs: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        let candle = parse::candle(&refs, refs.len()).map_err(|reason| KlineError::Malformed {
            path: self.path.clone(),
            at,
            reason,
        })?;
        Ok((at, candle))
    }

    fn peek(&mut self) -> Result<Option<u8>, KlineError> {
        match self.reader.fill_buf() {
            Ok(buf) => Ok(buf.first().copied()),
            Err(source) => Err(KlineError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Consumes whitespace; the next byte, not consumed.
    fn skip_ws(&mut self) -> Result<Option<u8>, KlineError> {
        loop {
            match self.peek()? {
                Some(b) if b.is_ascii_whitespace() => self.reader.consume(1),
                other => return Ok(other),
            }
        }
    }

    fn syntax(&self, reason: impl Into<String>) -> KlineError {
        self.syntax_at(Position::Element(self.index), reason)
    }

    fn syntax_at(&self, at: Position, reason: impl Into<String>) -> KlineError {
        KlineError::Json {
            path: self.path.clone(),
            at,
            reason: reason.into(),
        }
    }
}

/// A string field's contents, or a number's (or `null`'s) text as written.
fn field_text(raw: &RawValue) -> Result<Cow<'_, str>, serde_json::Error> {
    let text = raw.get();
    if text.starts_with('"') {
        serde_json::from_str::<String>(text).map(Cow::Owned)
    } else {
        Ok(Cow::Borrowed(text))
    }
}
