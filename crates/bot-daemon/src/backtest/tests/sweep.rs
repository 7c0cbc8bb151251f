use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;

fn spec(v: Value) -> SweepSpec {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_grid_is_every_combination_in_order() {
    let s = spec(json!({"grid": {"k_next": [1, 2, 3], "tp_start_pct": ["0.008", "0.012"]}}));
    let c = configs(&s).unwrap();
    assert_eq!(c.len(), 6);
    assert_eq!(c[0]["k_next"], json!(1));
    assert_eq!(c[0]["tp_start_pct"], json!("0.008"));
    assert_eq!(c[1]["tp_start_pct"], json!("0.012"));
    assert_eq!(c[5]["k_next"], json!(3));
    let distinct: std::collections::BTreeSet<String> = c
        .iter()
        .map(|m| serde_json::to_string(m).unwrap())
        .collect();
    assert_eq!(distinct.len(), 6);
}

#[test]
fn random_samples_are_seeded_and_inside_their_ranges() {
    let s = spec(json!({"random": {"samples": 50, "seed": 7, "ranges": {
        "k_next": {"min": 1, "max": 3},
        "tp_start_pct": {"min": "0.004", "max": "0.02"},
    }}}));
    let a = configs(&s).unwrap();
    assert_eq!(a, configs(&s).unwrap(), "the same seed, the same configs");
    assert_eq!(a.len(), 50);
    let mut ks = std::collections::BTreeSet::new();
    for c in &a {
        let k = c["k_next"].as_i64().unwrap();
        assert!((1..=3).contains(&k));
        ks.insert(k);
        let tp: Decimal = c["tp_start_pct"].as_str().unwrap().parse().unwrap();
        assert!(tp >= Decimal::new(4, 3) && tp <= Decimal::new(2, 2), "{tp}");
        assert!(tp.scale() <= 3, "{tp}: at the bounds' scale");
    }
    assert_eq!(ks.len(), 3, "every integer is drawn");
    let other = spec(json!({"random": {"samples": 50, "seed": 8, "ranges": {
        "k_next": {"min": 1, "max": 3},
        "tp_start_pct": {"min": "0.004", "max": "0.02"},
    }}}));
    assert_ne!(a, configs(&other).unwrap());
    let bad = spec(json!({"random": {"samples": 1, "ranges": {"k_next": {"min": 3, "max": 1}}}}));
    assert!(configs(&bad).is_err());
}

#[test]
fn dotted_fields_reach_nested_config_objects() {
    let base = json!({"levels_pct": ["0.01"], "reanchor_rules": {"close_ratio": "0.9"}});
    let fields = BTreeMap::from([
        ("reanchor_rules.time_ttl_s".to_string(), json!(3600)),
        ("k_next".to_string(), json!(2)),
    ]);
    let v = overlay(Some(&base), &fields);
    assert_eq!(v["reanchor_rules"]["time_ttl_s"], json!(3600));
    assert_eq!(
        v["reanchor_rules"]["close_ratio"],
        json!("0.9"),
        "siblings kept"
    );
    assert_eq!(v["levels_pct"], json!(["0.01"]));
    assert_eq!(v["k_next"], json!(2));
}

#[test]
fn runs_are_ranked_by_the_objective_failures_last_ties_in_order() {
    let run = |score: Option<f64>| SweepRun {
        fields: BTreeMap::new(),
        result: score
            .map(|_| json!({}))
            .ok_or_else(|| "refused".to_string()),
        score,
    };
    let runs = [
        run(Some(1.0)),
        run(None),
        run(Some(3.0)),
        run(Some(1.0)),
        run(Some(-2.0)),
    ];
    assert_eq!(ranking(&runs), [2, 0, 3, 4, 1]);
    let summary = json!({"total_return_pct": "6", "max_drawdown_pct": "2", "sharpe": null});
    assert_eq!(Objective::Return.of(&summary), Some(6.0));
    assert_eq!(Objective::ReturnOverDrawdown.of(&summary), Some(3.0));
    assert_eq!(Objective::Sharpe.of(&summary), None);
    let flat = json!({"total_return_pct": "1", "max_drawdown_pct": "0"});
    assert_eq!(
        Objective::ReturnOverDrawdown.of(&flat),
        Some(100.0),
        "drawdown floored at 0.01 %"
    );
}
