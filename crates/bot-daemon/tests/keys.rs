//! The daemon's exchange client built from its settings with an Ed25519 key
//! (`BINANCE_PRIVATE_KEY_FILE`, type detected from the PEM) trades on the
//! simulator, which verifies against the registered public key; the wrong
//! key is refused with `-1022`; paper mode keeps the simulator's HMAC key.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use binance_rest::{Ed25519Key, Exchange, KeyType, NewOrder, OrderRef, OrderStatus};
use bot_daemon::settings::{Mode, Settings};
use exchange_sim::{ApiKeyConfig, SimConfig, SimServer};
use grid_core::Side;
use rust_decimal_macros::dec;

/// Throwaway keys (`openssl genpkey -algorithm ed25519`): the registered one…
const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ3kUoUGoM9YVFsF/38QBuivP4CYKdV2pmQgi9fmc1ht\n-----END PRIVATE KEY-----\n";
/// …and another (Binance's FIX docs example key).
const OTHER_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";

fn settings_for(sim: &SimServer, pem_file: &std::path::Path) -> Settings {
    let mut env = HashMap::new();
    env.insert("BINANCE_API_KEY".to_string(), "ed-key".to_string());
    env.insert(
        "BINANCE_PRIVATE_KEY_FILE".to_string(),
        pem_file.display().to_string(),
    );
    env.insert("BINANCE_BASE_URL".to_string(), sim.base_url());
    Settings::from_map(&env).unwrap()
}

#[test]
fn the_daemon_trades_with_an_ed25519_key_and_a_wrong_key_is_refused() {
    let public = Ed25519Key::from_pkcs8_pem(PEM)
        .unwrap()
        .public_key_pem()
        .unwrap();
    let sim = SimServer::start(
        SimConfig {
            api_keys: vec![ApiKeyConfig {
                key: "ed-key".into(),
                ed25519_public_key_pem: public,
            }],
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("bot-daemon-keys-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("key.pem"), PEM).unwrap();
    std::fs::write(dir.join("other.pem"), OTHER_PEM).unwrap();

    let settings = settings_for(&sim, &dir.join("key.pem"));
    assert_eq!(settings.mode.mode, Mode::Local);
    assert_eq!(settings.api_key_type, KeyType::Ed25519);
    let (client, none, _) = bot_daemon::run::exchange(&settings).unwrap();
    assert!(none.is_none());
    assert_eq!(
        client.config().credentials.as_ref().map(|c| c.key_type()),
        Some(KeyType::Ed25519)
    );
    let placed = client
        .place_order(&NewOrder::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(0.1),
            dec!(140.00),
        ))
        .unwrap();
    assert_eq!(placed.status, OrderStatus::New);
    let cid = placed.client_order_id.clone();
    let got = client
        .get_order("SOLUSDC", OrderRef::Client(cid.clone()))
        .unwrap();
    assert_eq!(got.order_id, placed.order_id);
    assert_eq!(client.open_orders(Some("SOLUSDC")).unwrap().len(), 1);
    let cancelled = client
        .cancel_order("SOLUSDC", OrderRef::Client(cid))
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Canceled);
    assert!(client.account().is_ok());

    let wrong = settings_for(&sim, &dir.join("other.pem"));
    let (client, _, _) = bot_daemon::run::exchange(&wrong).unwrap();
    let e = client.account().unwrap_err();
    assert!(e.is_auth_error(), "{e:?}");
    assert_eq!(
        e.to_string(),
        "exchange error -1022: Signature for this request is not valid."
    );
    let e = client
        .place_order(&NewOrder::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(0.1),
            dec!(140.00),
        ))
        .unwrap_err();
    assert_eq!(e.code(), Some(-1022));
    assert!(!format!("{wrong:?} {client:?} {e}").contains("IIJEYWtG"));
    std::fs::remove_dir_all(&dir).unwrap();
    sim.shutdown();
}

#[test]
fn paper_mode_keeps_the_simulators_hmac_key() {
    let mut env = HashMap::new();
    env.insert("BOT_MODE".to_string(), "paper".to_string());
    let settings = Settings::from_map(&env).unwrap();
    assert_eq!(settings.mode.mode, Mode::Paper);
    let (client, sim, _) = bot_daemon::run::exchange(&settings).unwrap();
    assert_eq!(
        client.config().credentials.as_ref().map(|c| c.key_type()),
        Some(KeyType::Hmac)
    );
    assert!(client.account().is_ok());
    drop(sim);
}
