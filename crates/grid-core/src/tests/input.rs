//! Property tests of `input.rs`: the per-fill fast path of `validate` (fields
//! read as integer units, clientOrderId and asset compared word by word, the
//! commission asset of a SELL not read) against the loop it replaced, kept
//! here verbatim as the reference.

use super::*;
use proptest::prelude::*;

/// The fill loop of `PlanInput::validate` before the fast path (commit
/// 0c1d700), returning the state and the roles, or the first error.
fn reference(inp: &PlanInput) -> Result<(BasketState, Vec<Role>), PlanError> {
    let b = &inp.basket;
    let rules = inp.rules.clone().validate()?;
    let mut config = b.config.clone();
    config.symbol = b.symbol.clone();
    let prefix = basket_prefix(&b.symbol, b.id);
    let mut fills = Vec::with_capacity(inp.fills.len());
    let mut state = StateBuilder::new(config.max_levels());
    let mut last_cid: Option<(&str, Role)> = None;
    let mut increasing = true;
    let mut prev_trade: Option<i64> = None;
    for (i, f) in inp.fills.iter().enumerate() {
        let fast = match (units8(f.qty), units8(f.price)) {
            (Some(q), Some(p)) if q > 0 && q <= MAX_UNITS8 && p > 0 && p <= MAX_UNITS8 => {
                Some((q, p))
            }
            _ => None,
        };
        let amounts_ok = within_1e11(f.commission, false)
            & within_1e11(f.commission_quote, false)
            & (fast.is_some() || (within_1e11(f.price, true) & within_1e11(f.qty, true)));
        if !amounts_ok {
            return Err(bad_fill_amount(i, f));
        }
        let role = match last_cid {
            Some((cid, role)) if cid == f.client_order_id => role,
            _ => {
                let role = f
                    .client_order_id
                    .strip_prefix(prefix.as_str())
                    .and_then(parse_suffix)
                    .map(|(role, _)| role)
                    .ok_or_else(|| foreign_fill(i, f, &prefix))?;
                last_cid = Some((f.client_order_id.as_str(), role));
                role
            }
        };
        let expected = if role.is_buy() { Side::Buy } else { Side::Sell };
        if f.side != expected {
            return Err(StrategyError::new(
                format!("fills[{i}].side"),
                format!("a {} fill of role {role}", f.side),
            )
            .into());
        }
        let fee_in_base = f.commission_asset == rules.base_asset;
        let fee_units = if fee_in_base {
            units8(f.commission)
        } else {
            Some(0)
        };
        if fee_in_base && f.side == Side::Buy {
            let too_big = match (fast, fee_units) {
                (Some((q, _)), Some(c)) => c > q,
                _ => f.commission > f.qty,
            };
            if too_big {
                return Err(PlanError::input(
                    format!("fills[{i}].commission"),
                    "a base-asset commission larger than the quantity bought",
                ));
            }
        }
        if let Some(p) = prev_trade {
            increasing &= f.trade_id > p;
        }
        prev_trade = Some(f.trade_id);
        match (fast, fee_units) {
            (Some((q, p)), Some(c)) => {
                state.add_units(role, f, q, p, fee_in_base.then_some(c));
            }
            _ => state.add(role, f, fee_in_base),
        }
        fills.push(role);
    }
    if !increasing {
        let mut ids: Vec<i64> = inp.fills.iter().map(|f| f.trade_id).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(PlanError::input(
                "fills",
                format!("trade id {} appears twice", w[0]),
            ));
        }
    }
    Ok((state.finish()?, fills))
}

fn base_input() -> PlanInput {
    let rules = SymbolRules {
        base_asset: "SOL".into(),
        quote_asset: "USDC".into(),
        tick_size: Decimal::new(1, 3),
        step_size: Decimal::new(1, 2),
        min_qty: Decimal::new(1, 2),
        max_qty: Decimal::from(9000),
        min_price: Decimal::new(1, 3),
        max_price: Decimal::from(1_000_000),
        min_notional: Decimal::from(5),
        max_notional: None,
        trailing_delta_min: 10,
        trailing_delta_max: 2000,
        max_num_orders: 200,
        max_num_algo_orders: None,
        percent_price_by_side: None,
    };
    PlanInput {
        now_ms: 1_760_620_800_000,
        basket: BasketInput {
            id: 42,
            symbol: "SOLUSDC".into(),
            anchor_price: Decimal::from(150),
            status: BasketStatus::Active,
            created_at_ms: 1_760_600_000_000,
            order_seq: 200,
            config: GridConfig {
                hard_stop_mode: crate::config::HardStopMode::ExtendZone,
                ..GridConfig::default()
            },
        },
        rules,
        fills: Vec::new(),
        open_orders: Vec::new(),
        last_price: Decimal::from(140),
    }
}

/// Valid amounts: mostly exchange-shaped (8 decimals), also other scales and
/// long mantissas of up to 28 decimals (the general path).
fn arb_valid_amount(max: i64) -> impl Strategy<Value = Decimal> {
    prop_oneof![
        12 => (1i64..max).prop_map(|m| Decimal::new(m, 8)),
        2 => (1i64..2_000_000, 0u32..=12).prop_map(|(m, s)| Decimal::new(m, s)),
        1 => (1u128..100_000_000_000_000_000_000, 9u32..=28)
            .prop_map(|(m, s)| Decimal::from_i128_with_scale(m as i128, s)),
        1 => Just(Decimal::new(i64::MAX, 8)),
    ]
}

/// Anything: zero, -0, negative, huge, 96-bit mantissas at any scale.
fn arb_any_amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::ZERO),
        Just(-Decimal::ZERO),
        (1i64..1_000_000, 0u32..=8).prop_map(|(m, s)| -Decimal::new(m, s)),
        (0u128..(1 << 96), 0u32..=28)
            .prop_map(|(m, s)| Decimal::from_i128_with_scale(m as i128, s)),
        (1u64..10_000, 0u32..=4).prop_map(|(m, s)| {
            Decimal::from_i128_with_scale(i128::from(m) * 100_000_000_000_000_000, s)
        }),
    ]
}

/// A valid amount, or now and then anything.
fn arb_amount(max: i64) -> impl Strategy<Value = Decimal> {
    prop_oneof![60 => arb_valid_amount(max), 1 => arb_any_amount()]
}

fn arb_cid() -> impl Strategy<Value = String> {
    prop_oneof![
        60 => (1u32..=8, 1u64..30).prop_map(|(l, s)| format!("BOT_SOLUSDC_42_B{l}_{s}")),
        12 => (0usize..4, 1u64..30).prop_map(|(r, s)| {
            format!("BOT_SOLUSDC_42_{}_{s}", ["TP1", "TP2", "TRAIL", "EXIT"][r])
        }),
        1 => prop::sample::select(vec![
            "BOT_SOLUSDC_42_B7_1".to_string(),
            "BOT_SOLUSDC_42_B0x_1".to_string(),
            "BOT_SOLUSDC_43_B1_1".to_string(),
            "web_1".to_string(),
            "BOT_SOLUSDC_42_B1_01".to_string(),
            "BOT_SOLUSDC_42_B99_1".to_string(),
        ]),
    ]
}

prop_compose! {
    fn arb_fill()(
        cid in arb_cid(),
        repeat in 1usize..4,
        wrong_side in prop::bool::weighted(0.01),
        qty in arb_amount(2_000_000_000),
        price in arb_amount(30_000_000_000),
        commission in prop_oneof![3 => arb_amount(2_000_000), 1 => Just(Decimal::ZERO)],
        commission_quote in prop_oneof![3 => arb_amount(2_000_000), 1 => Just(Decimal::ZERO)],
        asset in prop::sample::select(vec!["SOL", "USDC", "BNB", "SO", "SOLX", "", "sol"]),
        dt in prop_oneof![60 => 1i64..3, 1 => -2i64..=0],
    ) -> (Vec<Fill>, i64) {
        let role_buy = cid.starts_with("BOT_SOLUSDC_42_B");
        let side = if role_buy != wrong_side { Side::Buy } else { Side::Sell };
        let fill = Fill {
            trade_id: 0,
            exchange_order_id: 1,
            client_order_id: cid,
            side,
            price,
            qty,
            commission,
            commission_asset: asset.to_string(),
            commission_quote,
        };
        (vec![fill; repeat], dt)
    }
}

fn arb_input() -> impl Strategy<Value = PlanInput> {
    prop::collection::vec(arb_fill(), 0..40).prop_map(|groups| {
        let mut inp = base_input();
        let mut tid = 1000i64;
        for (group, dt) in groups {
            for mut f in group {
                tid += dt;
                f.trade_id = tid;
                inp.fills.push(f);
            }
        }
        inp
    })
}

/// Exchange-shaped histories that mostly validate: buys of 8-decimal amounts,
/// fees in the base, quote or a third asset, and sells that may exceed the
/// position.
fn arb_valid_input() -> impl Strategy<Value = PlanInput> {
    let fill = (
        0u32..=9,
        1i64..500_000_000,
        1i64..30_000_000_000,
        0i64..1_000_000,
        0usize..3,
    );
    prop::collection::vec(fill, 0..60).prop_map(|fills| {
        let mut inp = base_input();
        for (i, (r, q, p, c, a)) in fills.into_iter().enumerate() {
            let (role, side) = match r {
                0..=5 => (format!("B{}", r + 1), Side::Buy),
                6 => ("TP1".to_string(), Side::Sell),
                7 => ("TP2".to_string(), Side::Sell),
                8 => ("TRAIL".to_string(), Side::Sell),
                _ => ("EXIT".to_string(), Side::Sell),
            };
            inp.fills.push(Fill {
                trade_id: i as i64 + 1,
                exchange_order_id: i64::from(r),
                client_order_id: format!("BOT_SOLUSDC_42_{role}_{}", r + 1),
                side,
                price: Decimal::new(p, 8),
                qty: Decimal::new(q, 8),
                commission: Decimal::new(c.min(q), 8),
                commission_asset: ["SOL", "USDC", "BNB"][a].to_string(),
                commission_quote: Decimal::new(c, 8),
            });
        }
        inp
    })
}

fn compare(inp: &PlanInput) -> Result<(), TestCaseError> {
    let want = reference(inp).map(|(s, roles)| (format!("{s:?}"), roles));
    for keep in [true, false] {
        let got = inp.validate_keeping(keep).map(|v| {
            let roles: Vec<Role> = v.fills.iter().map(|rf| rf.role).collect();
            (format!("{:?}", v.state), roles)
        });
        match (&want, &got) {
            (Ok((ws, wr)), Ok((gs, gr))) => {
                prop_assert_eq!(ws, gs);
                if keep {
                    prop_assert_eq!(wr, gr);
                } else {
                    prop_assert!(gr.is_empty());
                }
            }
            (Err(we), Err(ge)) => prop_assert_eq!(we, ge),
            _ => prop_assert!(false, "reference {:?} vs fast path {:?}", want, got),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fast_fill_loop_matches_the_reference_on_any_fills(inp in arb_input()) {
        compare(&inp)?;
    }

    #[test]
    fn fast_fill_loop_matches_the_reference_on_exchange_histories(inp in arb_valid_input()) {
        compare(&inp)?;
    }

    #[test]
    fn parse_suffix_splits_at_the_last_underscore(s in "[A-Z0-9_]{0,12}|B[0-9]{1,3}_[0-9]{1,4}|(TP1|TP2|TRAIL|EXIT)_[0-9]{1,3}|é_1") {
        // The split `parse_suffix` had before: `rsplit_once('_')`.
        let want = s.rsplit_once('_').and_then(|(role, seq)| {
            if seq.is_empty()
                || !seq.bytes().all(|b| b.is_ascii_digit())
                || (seq.len() > 1 && seq.starts_with('0'))
            {
                return None;
            }
            Some((role.parse::<Role>().ok()?, seq.parse::<u64>().ok()?))
        });
        prop_assert_eq!(parse_suffix(&s), want);
    }

    #[test]
    fn same_str_is_string_equality(
        a in "[A-Z0-9_]{0,40}",
        flip in any::<prop::sample::Index>(),
        mode in 0u8..3,
    ) {
        let b = match mode {
            0 => a.clone(),
            1 if !a.is_empty() => {
                let mut v = a.clone().into_bytes();
                let i = flip.index(v.len());
                v[i] = if v[i] == b'X' { b'Y' } else { b'X' };
                String::from_utf8(v).unwrap()
            }
            _ => format!("{a}Z"),
        };
        prop_assert_eq!(same_str(&a, &b), a == b);
        prop_assert_eq!(same_str(&b, &a), a == b);
    }
}
