//! Unit tests of `account.rs`: the valuation, table-driven.

use std::collections::BTreeMap;

use rust_decimal_macros::dec;

use super::*;

fn pair(symbol: &str, base: &str, quote: &str, price: Decimal) -> Pair {
    Pair {
        symbol: symbol.into(),
        base: base.into(),
        quote: quote.into(),
        price,
    }
}

fn held(list: &[(&str, Decimal)]) -> BTreeMap<String, Decimal> {
    list.iter().map(|(a, v)| (a.to_string(), *v)).collect()
}

struct Case {
    name: &'static str,
    currency: &'static str,
    holdings: Vec<(&'static str, Decimal)>,
    pairs: Vec<Pair>,
    total: Decimal,
    /// asset, value, route
    valued: Vec<(&'static str, Decimal, Vec<&'static str>)>,
    unvalued: Vec<&'static str>,
}

#[test]
fn value_in_by_case() {
    let cases = vec![
        Case {
            name: "the currency alone",
            currency: "USDC",
            holdings: vec![("USDC", dec!(100.5))],
            pairs: vec![],
            total: dec!(100.5),
            valued: vec![("USDC", dec!(100.5), vec![])],
            unvalued: vec![],
        },
        Case {
            name: "a usdt account through its basket symbol",
            currency: "USDT",
            holdings: vec![("USDT", dec!(5000)), ("SOL", dec!(2))],
            pairs: vec![pair("SOLUSDT", "SOL", "USDT", dec!(150))],
            total: dec!(5300),
            valued: vec![
                ("SOL", dec!(300), vec!["SOLUSDT"]),
                ("USDT", dec!(5000), vec![]),
            ],
            unvalued: vec![],
        },
        Case {
            name: "inverse pair: quote asset valued in the base",
            currency: "BTC",
            holdings: vec![("USDC", dec!(30000)), ("BTC", dec!(0.25))],
            pairs: vec![pair("BTCUSDC", "BTC", "USDC", dec!(60000))],
            total: dec!(0.75),
            valued: vec![
                ("BTC", dec!(0.25), vec![]),
                ("USDC", dec!(0.5), vec!["BTCUSDC"]),
            ],
            unvalued: vec![],
        },
        Case {
            name: "two hops, the second inverse",
            currency: "USDC",
            holdings: vec![("ETH", dec!(1))],
            pairs: vec![
                pair("ETHUSDT", "ETH", "USDT", dec!(3000)),
                pair("USDCUSDT", "USDC", "USDT", dec!(2)),
            ],
            total: dec!(1500),
            valued: vec![("ETH", dec!(1500), vec!["ETHUSDT", "USDCUSDT"])],
            unvalued: vec![],
        },
        Case {
            name: "an asset without a price is unvalued, not 0",
            currency: "USDC",
            holdings: vec![("USDC", dec!(10)), ("BNB", dec!(1))],
            pairs: vec![pair("SOLUSDC", "SOL", "USDC", dec!(150))],
            total: dec!(10),
            valued: vec![("USDC", dec!(10), vec![])],
            unvalued: vec!["BNB"],
        },
        Case {
            name: "a currency no pair names values only itself",
            currency: "EUR",
            holdings: vec![("EUR", dec!(7)), ("USDC", dec!(100))],
            pairs: vec![pair("SOLUSDC", "SOL", "USDC", dec!(150))],
            total: dec!(7),
            valued: vec![("EUR", dec!(7), vec![])],
            unvalued: vec!["USDC"],
        },
        Case {
            name: "zero amounts are not listed",
            currency: "USDC",
            holdings: vec![("USDC", dec!(0)), ("SOL", dec!(0)), ("XYZ", dec!(0))],
            pairs: vec![pair("SOLUSDC", "SOL", "USDC", dec!(150))],
            total: dec!(0),
            valued: vec![],
            unvalued: vec![],
        },
        Case {
            name: "a zero price converts nothing",
            currency: "USDC",
            holdings: vec![("SOL", dec!(1))],
            pairs: vec![pair("SOLUSDC", "SOL", "USDC", dec!(0))],
            total: dec!(0),
            valued: vec![],
            unvalued: vec!["SOL"],
        },
        Case {
            name: "an inverse value is rounded once to 16 decimals",
            currency: "BTC",
            holdings: vec![("USDC", dec!(1))],
            pairs: vec![pair("BTCUSDC", "BTC", "USDC", dec!(3))],
            total: dec!(0.3333333333333333),
            valued: vec![("USDC", dec!(0.3333333333333333), vec!["BTCUSDC"])],
            unvalued: vec![],
        },
        Case {
            name: "half to even at the 16th decimal",
            currency: "USDC",
            holdings: vec![("SOL", dec!(0.5)), ("ETH", dec!(0.5))],
            pairs: vec![
                pair("SOLUSDC", "SOL", "USDC", dec!(0.0000000000000005)),
                pair("ETHUSDC", "ETH", "USDC", dec!(0.0000000000000007)),
            ],
            total: dec!(0.0000000000000006),
            valued: vec![
                ("ETH", dec!(0.0000000000000004), vec!["ETHUSDC"]),
                ("SOL", dec!(0.0000000000000002), vec!["SOLUSDC"]),
            ],
            unvalued: vec![],
        },
        Case {
            name: "too large to compute is unvalued",
            currency: "USDC",
            holdings: vec![("SOL", Decimal::MAX)],
            pairs: vec![pair("SOLUSDC", "SOL", "USDC", dec!(1000))],
            total: dec!(0),
            valued: vec![],
            unvalued: vec!["SOL"],
        },
    ];
    for c in cases {
        let v = value_in(c.currency, &held(&c.holdings), &c.pairs);
        assert_eq!(v.currency, c.currency, "{}", c.name);
        assert_eq!(v.total, c.total, "{}: total", c.name);
        let valued: Vec<(&str, Decimal, Vec<&str>)> = v
            .assets
            .iter()
            .map(|a| {
                (
                    a.asset.as_str(),
                    a.value,
                    a.via.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(valued, c.valued, "{}: valued", c.name);
        let unvalued: Vec<&str> = v.unvalued.iter().map(|u| u.asset.as_str()).collect();
        assert_eq!(unvalued, c.unvalued, "{}: unvalued", c.name);
        for u in &v.unvalued {
            assert!(!u.reason.is_empty() && !u.amount.is_zero(), "{}", c.name);
        }
        let sum: Decimal = v.assets.iter().map(|a| a.value).sum();
        assert_eq!(
            sum, v.total,
            "{}: the total is the sum of the values",
            c.name
        );
    }
}

/// The route does not depend on the order the prices come in.
#[test]
fn routes_are_deterministic() {
    let pairs = vec![
        pair("ETHUSDT", "ETH", "USDT", dec!(3000)),
        pair("ETHUSDC", "ETH", "USDC", dec!(2990)),
        pair("USDCUSDT", "USDC", "USDT", dec!(1.01)),
        pair("BTCUSDT", "BTC", "USDT", dec!(60000)),
    ];
    let h = held(&[("ETH", dec!(1)), ("USDC", dec!(10)), ("BTC", dec!(1))]);
    let a = value_in("USDT", &h, &pairs);
    let mut reversed = pairs.clone();
    reversed.reverse();
    assert_eq!(a, value_in("USDT", &h, &reversed));
    // shortest routes: ETH and USDC in one hop
    let eth = a
        .assets
        .iter()
        .find(|x| x.asset == "ETH")
        .map(|x| x.via.clone());
    assert_eq!(eth, Some(vec!["ETHUSDT".to_string()]));
}

#[test]
fn account_currency_is_configured_or_the_lowest_basket_id() {
    let b = |id, base: &str, quote: &str| BasketAssets {
        id,
        base: base.into(),
        quote: quote.into(),
    };
    let baskets = [
        b(7, "SOL", "USDC"),
        b(3, "SOL", "USDT"),
        b(5, "BTC", "FDUSD"),
    ];
    assert_eq!(account_currency(None, &baskets).as_deref(), Some("USDT"));
    assert_eq!(
        account_currency(Some("EUR"), &baskets).as_deref(),
        Some("EUR")
    );
    assert_eq!(account_currency(None, &[]), None);
}

/// Baskets in two quotes: the account in one currency, each quote's
/// baskets in that quote.
#[test]
fn every_basket_quote_and_the_account() {
    let baskets = [
        BasketAssets {
            id: 7,
            base: "SOL".into(),
            quote: "USDC".into(),
        },
        BasketAssets {
            id: 3,
            base: "SOL".into(),
            quote: "USDT".into(),
        },
        BasketAssets {
            id: 5,
            base: "BTC".into(),
            quote: "USDT".into(),
        },
    ];
    let pairs = [
        pair("SOLUSDC", "SOL", "USDC", dec!(150)),
        pair("SOLUSDT", "SOL", "USDT", dec!(151)),
        pair("BTCUSDT", "BTC", "USDT", dec!(60000)),
    ];
    let h = held(&[
        ("USDC", dec!(1000)),
        ("USDT", dec!(500)),
        ("SOL", dec!(2)),
        ("BTC", dec!(0.1)),
        ("BNB", dec!(1)),
    ]);
    let currency = account_currency(None, &baskets).unwrap_or_default();
    let v = value_account(&currency, &h, &baskets, &pairs);
    assert_eq!(v.account.currency, "USDT");
    // USDC goes USDC -> SOL (SOLUSDC) -> USDT (SOLUSDT): 1000 / 150 * 151
    let usdc = v.account.assets.iter().find(|a| a.asset == "USDC").cloned();
    assert_eq!(
        usdc.as_ref().map(|a| a.value),
        Some(dec!(1006.6666666666666667))
    );
    assert_eq!(
        usdc.map(|a| a.via),
        Some(vec!["SOLUSDC".to_string(), "SOLUSDT".to_string()])
    );
    assert_eq!(v.account.total, dec!(7808.6666666666666667));
    let unvalued: Vec<&str> = v
        .account
        .unvalued
        .iter()
        .map(|u| u.asset.as_str())
        .collect();
    assert_eq!(unvalued, ["BNB"]);
    let quotes: Vec<(&str, Decimal, usize)> = v
        .by_quote
        .iter()
        .map(|q| (q.currency.as_str(), q.total, q.unvalued.len()))
        .collect();
    assert_eq!(
        quotes,
        [("USDC", dec!(1300), 0), ("USDT", dec!(6802), 0)],
        "USDC: 1000 + 2 SOL * 150; USDT: 500 + 2 SOL * 151 + 0.1 BTC * 60000"
    );
    let json = valuation_json(&v);
    assert_eq!(json.unvalued[0]["asset"], "BNB");
    let usdt: Option<Decimal> = json.quote_values["USDT"]["value"]
        .as_str()
        .and_then(|v| v.parse().ok());
    assert_eq!(usdt, Some(dec!(6802)));
    assert_eq!(json.asset_values["SOL"]["via"][0], "SOLUSDT");
}
