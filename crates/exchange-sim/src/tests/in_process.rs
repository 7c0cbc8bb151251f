//! Unit tests of [`crate::in_process`].
use super::*;

#[test]
fn in_process_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<InProcess>();
    assert_send_sync::<EngineClock>();
}

#[test]
fn a_wall_clock_engine_is_refused() {
    let e = InProcess::new(SimConfig::default());
    assert!(matches!(e, Err(SimError::Config(_))), "{e:?}");
}

#[test]
fn the_engine_clock_advances_instead_of_sleeping() {
    let ex = InProcess::new(SimConfig {
        start_time_ms: Some(1_000_000),
        ..SimConfig::default()
    })
    .unwrap();
    let clock = ex.clock();
    clock.sleep(Duration::from_millis(1500));
    assert_eq!(clock.now_ms(), 1_001_500);
    assert_eq!(ex.with_engine(|e| e.now()), 1_001_500);
}

#[test]
fn generated_client_order_ids_look_like_the_clients() {
    let ex = InProcess::new(SimConfig {
        start_time_ms: Some(1_000_000),
        ..SimConfig::default()
    })
    .unwrap();
    let a = ex.with_engine(|e| e.generate_client_order_id());
    let b = ex.with_engine(|e| e.generate_client_order_id());
    assert_ne!(a, b);
    assert_eq!(a.len(), 22);
    assert!(a.starts_with("x-"));
    assert!(binance_rest::is_valid_client_order_id(&a), "{a}");
}
