//! Credentials, query-string encoding and request signing: HMAC-SHA256
//! (binance-api.md §3.2) and Ed25519 (§3.3; Binance's web-socket-api.md, "SIGNED request example").
//!
//! Invariants:
//! - the HMAC secret lives only in [`Secret`], the Ed25519 private key only in
//!   [`Ed25519Key`]; their `Debug`/`Display` print `***`, no accessor returns
//!   them, they are overwritten on drop, and no error carries them (nor the
//!   text of the file a key was read from);
//! - a REST signature covers exactly the bytes put on the wire (percent-encoded
//!   query string, then body, without the `signature` pair), so what is signed
//!   is what the server verifies; the signature itself is percent-encoded when
//!   sent (a no-op for HMAC's hex, `+ / =` for Ed25519's base64);
//! - a WebSocket API signature covers the request's params but `signature`,
//!   sorted by name, joined as `name=value&…` **without** percent-encoding
//!   ([`ws_signature_payload`]).

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey, PrivateKeyInfoRef};
use ed25519_dalek::Signer as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::Error;

/// The API secret. `Debug` and `Display` print `***`; there is no accessor
/// that returns the text, and the bytes are overwritten on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps the secret text as Binance issued it (HMAC key; not validated).
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// Whether the secret is empty (e.g. an unset environment variable).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `lowercase_hex(HMAC_SHA256(secret, payload))`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] if the HMAC cannot be keyed (never for HMAC-SHA256,
    /// which accepts any key length; kept to avoid a panic path).
    pub fn sign(&self, payload: &str) -> Result<String, Error> {
        sign_with(self.0.as_bytes(), payload)
    }
}

fn sign_with(key: &[u8], payload: &str) -> Result<String, Error> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|_| Error::InvalidRequest("the API secret cannot key HMAC-SHA256".into()))?;
    mac.update(payload.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

/// The kind of API key, as `BINANCE_API_KEY_TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// A shared secret; requests carry `hex(HMAC-SHA256)`.
    Hmac,
    /// An Ed25519 key pair: Binance holds the public key, requests carry
    /// `base64(Ed25519 signature)` made with the private key.
    Ed25519,
}

impl KeyType {
    /// `hmac` or `ed25519`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Hmac => "hmac",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// Parses `hmac` / `ed25519` (any letter case, surrounding blanks ignored).
    pub fn parse(s: &str) -> Option<KeyType> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hmac" => Some(KeyType::Hmac),
            "ed25519" => Some(KeyType::Ed25519),
            _ => None,
        }
    }
}

/// The PKCS#8 algorithm OID of Ed25519 (RFC 8410).
const ED25519_OID: &str = "1.3.101.112";

/// OIDs of the private keys people are likely to give instead of an Ed25519 one.
const OTHER_KEY_ALGORITHMS: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.1", "an RSA key"),
    ("1.2.840.10045.2.1", "an elliptic-curve (ECDSA) key"),
    ("1.3.101.110", "an X25519 key"),
    ("1.3.101.113", "an Ed448 key"),
];

/// An Ed25519 private key (PKCS#8), to sign requests. `Debug` prints `***`;
/// the key bytes are zeroed on drop (ed25519-dalek's `zeroize`).
#[derive(Clone)]
pub struct Ed25519Key(ed25519_dalek::SigningKey);

impl Ed25519Key {
    /// Reads an unencrypted PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`,
    /// as `openssl genpkey -algorithm ed25519` writes it).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] saying what the text is instead (not PEM, a public
    /// key, an encrypted key, an OpenSSH key, another algorithm) and what to do;
    /// the message never quotes the text.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, Error> {
        let der = pem_body(pem)?;
        match ed25519_dalek::SigningKey::from_pkcs8_der(&der) {
            Ok(k) => Ok(Ed25519Key(k)),
            Err(_) => Err(Error::InvalidKey(match other_algorithm(&der) {
                Some(what) => format!(
                    "the private key is {what}, not Ed25519; create an Ed25519 key (openssl genpkey -algorithm ed25519 -out key.pem) or use an HMAC key"
                ),
                None => "the private key is not a valid PKCS#8 Ed25519 key; create one with openssl genpkey -algorithm ed25519 -out key.pem".into(),
            })),
        }
    }

    /// Reads [`Ed25519Key::from_pkcs8_pem`] from a file.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] naming the path (never the content) when the file
    /// cannot be read or holds no usable key.
    pub fn from_pem_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read(path).map_err(|e| {
            Error::InvalidKey(format!(
                "cannot read the private key file {}: {e}",
                path.display()
            ))
        })?;
        let text = String::from_utf8(text).map_err(|_| {
            Error::InvalidKey(format!(
                "the private key file {} is not a PEM text file (a DER or other binary file?); convert it with openssl pkey -in FILE -out key.pem",
                path.display()
            ))
        })?;
        Self::from_pkcs8_pem(&text).map_err(|e| match e {
            Error::InvalidKey(m) => Error::InvalidKey(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The public key as a PEM `-----BEGIN PUBLIC KEY-----` block (SPKI), the
    /// text to register on Binance (not secret).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if it cannot be encoded (not expected).
    pub fn public_key_pem(&self) -> Result<String, Error> {
        let der = self
            .0
            .verifying_key()
            .to_public_key_der()
            .map_err(|_| Error::InvalidKey("cannot encode the Ed25519 public key".into()))?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
        Ok(format!(
            "-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n"
        ))
    }

    /// `base64(Ed25519(payload))` (standard alphabet with padding, 88 characters).
    pub fn sign(&self, payload: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0.sign(payload).to_bytes())
    }
}

impl fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Key(***)")
    }
}

/// The DER bytes of a PEM `PRIVATE KEY` block, or why the text is not one.
fn pem_body(pem: &str) -> Result<Vec<u8>, Error> {
    let bad = |m: &str| Err(Error::InvalidKey(m.to_string()));
    let Some(begin) = pem.find("-----BEGIN ") else {
        return bad("the private key is not in PEM format (no -----BEGIN line); give the PKCS#8 PEM file that openssl genpkey -algorithm ed25519 -out key.pem writes");
    };
    let rest = &pem[begin + "-----BEGIN ".len()..];
    let Some(label_end) = rest.find("-----") else {
        return bad("the private key's PEM -----BEGIN line is not closed");
    };
    let label = &rest[..label_end];
    match label {
        "PRIVATE KEY" => {}
        "ENCRYPTED PRIVATE KEY" => {
            return bad("the private key is encrypted with a passphrase; decrypt it (openssl pkey -in key.pem -out plain.pem) and give the passphrase-less key, kept readable only by the bot's user");
        }
        "PUBLIC KEY" => {
            return bad("the file holds a PUBLIC key; give the PRIVATE key (the public key is what you register on Binance)");
        }
        "OPENSSH PRIVATE KEY" => {
            return bad("the private key is in OpenSSH format; give a PKCS#8 PEM key (openssl genpkey -algorithm ed25519 -out key.pem)");
        }
        "RSA PRIVATE KEY" => {
            return bad("the private key is an RSA key, not Ed25519; create an Ed25519 key (openssl genpkey -algorithm ed25519 -out key.pem) or use an HMAC key");
        }
        "EC PRIVATE KEY" => {
            return bad("the private key is an elliptic-curve (ECDSA) key, not Ed25519; create an Ed25519 key (openssl genpkey -algorithm ed25519 -out key.pem)");
        }
        _ => {
            return bad("the PEM block is not a PKCS#8 private key (-----BEGIN PRIVATE KEY-----); give the file that openssl genpkey -algorithm ed25519 -out key.pem writes");
        }
    }
    let body = &rest[label_end + "-----".len()..];
    let Some(end) = body.find("-----END PRIVATE KEY-----") else {
        return bad("the private key's PEM block has no -----END PRIVATE KEY----- line");
    };
    let b64: String = body[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| Error::InvalidKey("the private key's PEM body is not valid base64".into()))
}

/// What a PKCS#8 key that is not Ed25519 is (`None`: it says Ed25519, or
/// is no PKCS#8 structure at all).
fn other_algorithm(der: &[u8]) -> Option<String> {
    let info = PrivateKeyInfoRef::try_from(der).ok()?;
    let oid = info.algorithm.oid.to_string();
    if oid == ED25519_OID {
        return None;
    }
    Some(
        OTHER_KEY_ALGORITHMS
            .iter()
            .find(|(o, _)| *o == oid)
            .map(|(_, what)| (*what).to_string())
            .unwrap_or_else(|| format!("a key of another algorithm (OID {oid})")),
    )
}

/// How requests are signed: the HMAC secret or the Ed25519 private key.
#[derive(Clone)]
pub enum Signer {
    /// `hex(HMAC-SHA256(secret, payload))`.
    Hmac(Secret),
    /// `base64(Ed25519(private key, payload))`.
    Ed25519(Ed25519Key),
}

impl Signer {
    /// Which kind of key signs.
    pub fn key_type(&self) -> KeyType {
        match self {
            Signer::Hmac(_) => KeyType::Hmac,
            Signer::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The signature of `payload`, as Binance expects it in the `signature`
    /// parameter before URL encoding: lower-case hex (HMAC) or base64 (Ed25519).
    ///
    /// # Errors
    /// See [`Secret::sign`].
    pub fn sign(&self, payload: &str) -> Result<String, Error> {
        match self {
            Signer::Hmac(s) => s.sign(payload),
            Signer::Ed25519(k) => Ok(k.sign(payload.as_bytes())),
        }
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(***)", self.key_type().as_str())
    }
}

/// API key + how to sign. `Debug` shows only the first 4 characters of the
/// key, its type and `***` for the secret or private key.
#[derive(Clone)]
pub struct Credentials {
    /// The API key, sent in the `X-MBX-APIKEY` header; not secret.
    pub api_key: String,
    signer: Signer,
}

impl Credentials {
    /// An HMAC key and its secret, as Binance issued them.
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            api_key: api_key.into(),
            signer: Signer::Hmac(Secret::new(secret)),
        }
    }

    /// An Ed25519 API key (as Binance shows it once the public key is
    /// registered) and its private key.
    pub fn ed25519(api_key: impl Into<String>, key: Ed25519Key) -> Self {
        Credentials {
            api_key: api_key.into(),
            signer: Signer::Ed25519(key),
        }
    }

    /// Which kind of key signs.
    pub fn key_type(&self) -> KeyType {
        self.signer.key_type()
    }

    /// The HMAC secret (for HMAC credentials); it never prints.
    pub fn secret(&self) -> Option<&Secret> {
        match &self.signer {
            Signer::Hmac(s) => Some(s),
            Signer::Ed25519(_) => None,
        }
    }

    /// Signs a payload (hex for HMAC, base64 for Ed25519; not URL-encoded).
    ///
    /// # Errors
    /// See [`Secret::sign`].
    pub fn sign(&self, payload: &str) -> Result<String, Error> {
        self.signer.sign(payload)
    }

    /// The `signature` of a WebSocket API request with these `params`
    /// (`apiKey`, `timestamp`, … — everything but `signature`): the signature
    /// of [`ws_signature_payload`].
    ///
    /// # Errors
    /// See [`Secret::sign`].
    pub fn sign_ws_params<K: AsRef<str>, V: AsRef<str>>(
        &self,
        params: &[(K, V)],
    ) -> Result<String, Error> {
        self.signer.sign(&ws_signature_payload(params))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.api_key.chars().take(4).collect();
        f.debug_struct("Credentials")
            .field("api_key", &format_args!("{shown}…"))
            .field("signer", &self.signer)
            .finish()
    }
}

/// The payload a WebSocket API request signs (web-socket-api.md, "SIGNED
/// request example"): every param but `signature`, sorted by name, as
/// `name=value` joined with `&`, values as they are (UTF-8, **not**
/// percent-encoded).
pub fn ws_signature_payload<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| *k != "signature")
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Percent-encodes a query component: RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) stay, every other byte of the UTF-8 becomes `%XX`
/// (upper-case hex), as the docs' reference helper does.
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0x0f) as usize] as char);
        }
    }
    out
}

/// `name=value&name=value` with each name and value percent-encoded, in the given order.
pub fn build_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&percent_encode(k.as_ref()));
        out.push('=');
        out.push_str(&percent_encode(v.as_ref()));
    }
    out
}

/// Signs `query` (and an optional form `body`, concatenated with no separator,
/// §3.2 step 3) with an HMAC secret and returns the signature.
///
/// # Errors
/// See [`Secret::sign`].
pub fn sign_request(secret: &Secret, query: &str, body: &str) -> Result<String, Error> {
    let mut payload = String::with_capacity(query.len() + body.len());
    payload.push_str(query);
    payload.push_str(body);
    secret.sign(&payload)
}

#[cfg(test)]
#[path = "tests/auth.rs"]
mod tests;
