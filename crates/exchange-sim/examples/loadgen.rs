//! HTTP load generator: signed `POST /api/v3/order` requests over keep-alive
//! connections, each signed live with HMAC-SHA256.
//!
//! `cargo run --release -p exchange-sim --example loadgen -- [SECONDS] [CONNECTIONS] [URL]`
//!
//! Without URL it starts an in-process server on 127.0.0.1:0 with a config that
//! lifts the order-count limits and funds the account; with URL (e.g.
//! `http://127.0.0.1:8900`) it targets a running `exchange-sim` (default key).
//! Orders alternate MARKET BUY / SELL 0.1 SOLUSDC, so they fill at once and
//! never hit MAX_NUM_ORDERS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use exchange_sim::api::sign;
use exchange_sim::{SimConfig, SimServer};
use rust_decimal::Decimal;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn read_response(r: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(status)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let conns: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4);
    let mut _server = None;
    let base = match args.get(3) {
        Some(u) => u.clone(),
        None => {
            let mut cfg = SimConfig::default();
            cfg.limits.orders_per_10s = u64::MAX / 4;
            cfg.limits.orders_per_day = u64::MAX / 4;
            cfg.limits.weight_per_minute = u64::MAX / 4;
            cfg.balances
                .insert("USDC".into(), Decimal::from(100_000_000));
            cfg.balances.insert("SOL".into(), Decimal::from(1_000_000));
            let srv = SimServer::start(cfg, "127.0.0.1:0").expect("start server");
            let b = srv.base_url();
            _server = Some(srv);
            b
        }
    };
    let hostport = base.trim_start_matches("http://").to_string();
    let ok = Arc::new(AtomicU64::new(0));
    let other = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let handles: Vec<_> = (0..conns)
        .map(|c| {
            let (ok, other, hostport) = (ok.clone(), other.clone(), hostport.clone());
            std::thread::spawn(move || {
                let stream = TcpStream::connect(&hostport).expect("connect");
                stream.set_nodelay(true).ok();
                let mut w = stream.try_clone().expect("clone");
                let mut r = BufReader::new(stream);
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let side = if (i + c as u64).is_multiple_of(2) { "BUY" } else { "SELL" };
                    let q = format!(
                        "symbol=SOLUSDC&side={side}&type=MARKET&quantity=0.1&recvWindow=10000&timestamp={}",
                        now_ms()
                    );
                    let sig = sign("sim-secret", q.as_bytes());
                    let req = format!(
                        "POST /api/v3/order?{q}&signature={sig} HTTP/1.1\r\nHost: {hostport}\r\nX-MBX-APIKEY: sim-key\r\nContent-Length: 0\r\n\r\n"
                    );
                    if w.write_all(req.as_bytes()).is_err() {
                        break;
                    }
                    match read_response(&mut r) {
                        Ok(200) => ok.fetch_add(1, Ordering::Relaxed),
                        Ok(_) => other.fetch_add(1, Ordering::Relaxed),
                        Err(_) => break,
                    };
                    i += 1;
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let el = start.elapsed().as_secs_f64();
    let n = ok.load(Ordering::Relaxed);
    println!(
        "{n} signed orders OK, {} non-200, in {el:.1} s with {conns} connections: {:.0} orders/s",
        other.load(Ordering::Relaxed),
        n as f64 / el
    );
}
