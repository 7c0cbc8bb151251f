use super::*;

#[test]
fn ids_round_trip() {
    for role in [
        Role::Buy(1),
        Role::Buy(57),
        Role::Tp1,
        Role::Tp2,
        Role::Trail,
        Role::Exit,
    ] {
        let id = ClientOrderId::new("SOLUSDC", 42, role, 7);
        assert_eq!(ClientOrderId::parse(&id.to_string()), Ok(id.clone()));
        assert_eq!(role.to_string().parse::<Role>(), Ok(role));
    }
    assert_eq!(
        ClientOrderId::new("SOLUSDC", 42, Role::Buy(4), 4).to_string(),
        "BOT_SOLUSDC_42_B4_4"
    );
    assert_eq!(
        ClientOrderId::new("SOLUSDC", 42, Role::Trail, 12).to_string(),
        "BOT_SOLUSDC_42_TRAIL_12"
    );
}

#[test]
fn fast_rendering_matches_display() {
    for (sym, basket, role, seq) in [
        ("SOLUSDC", 42, Role::Buy(4), 4),
        ("BTCUSDC", 0, Role::Tp1, 0),
        (
            "ETHUSDC",
            9_999_999,
            Role::Trail,
            18_446_744_073_709_551_615,
        ),
        ("BNBUSDC", -7, Role::Exit, 10),
        ("X", 1, Role::Buy(4_294_967_295), 1),
    ] {
        let id = ClientOrderId::new(sym, basket, role, seq);
        assert_eq!(id.render(), id.to_string());
    }
}

#[test]
fn malformed_ids_are_refused() {
    for bad in [
        "web_123",
        "BOT_SOLUSDC_42_B4",
        "BOT_SOLUSDC_42_B0x_4",
        "BOT_SOLUSDC_42_B04_4",
        "BOT_SOLUSDC_42_X_4",
        "BOT_SOLUSDC_x_B4_4",
        "BOT_SOLUSDC_42_B4_",
        "BOT_SOLUSDC_42_B4_-1",
        "BOT__42_B4_4",
        "BOT_SOLUSDC_42_B4_99999999999999999999999",
    ] {
        assert!(
            ClientOrderId::parse(bad).is_err(),
            "{bad} should be refused"
        );
    }
}

#[test]
fn length_is_checked() {
    let ok = ClientOrderId::new("SOLUSDC", 42, Role::Trail, 12345678);
    assert!(ok.check_len().is_ok());
    let long = ClientOrderId::new("VERYLONGSYMBOLNAME", 123456789, Role::Trail, 123456);
    assert!(long.check_len().is_err());
}
