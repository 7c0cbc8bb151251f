//! Unit tests of `metrics.rs`: roles, the histogram's buckets and label
//! escaping, on a scrape built by hand and read back by a Prometheus text
//! parser.

use super::*;
use store::metrics::WorkerFigures;
use store::misc::{CycleHistogram, WorkerMetrics};

fn empty() -> Scrape {
    Scrape {
        baskets: Vec::new(),
        baskets_omitted: 0,
        open_orders: Vec::new(),
        baskets_by_status: Vec::new(),
        last_24h: Vec::new(),
        workers: Vec::new(),
        commands: Vec::new(),
        account: None,
        notifications: vec![],
    }
}

fn parse(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses")
}

#[test]
fn roles_map_to_five_labels_and_unknown_roles_are_left_out() {
    assert_eq!(role_label("B1"), Some("buy"));
    assert_eq!(role_label("B37"), Some("buy"));
    assert_eq!(role_label("TP1"), Some("tp1"));
    assert_eq!(role_label("TP2"), Some("tp2"));
    assert_eq!(role_label("TRAIL"), Some("trail"));
    assert_eq!(role_label("EXIT"), Some("exit"));
    assert_eq!(role_label("BOT_SOLUSDC_1_B1_3"), None);
    assert_eq!(role_label(""), None);
}

#[test]
fn cycle_histogram_is_cumulative_in_seconds_with_an_inf_bucket() {
    let mut h = CycleHistogram::new();
    for ms in [3, 10, 11, 70, 70_000] {
        h.observe(ms);
    }
    let mut s = empty();
    s.workers.push(WorkerFigures {
        instance_id: "w\"1\\x".into(),
        mode: "paper".into(),
        heartbeat_age_s: 2.5,
        last_cycle_ms: Some(70_000),
        weight_used: Some(82),
        metrics: Some(WorkerMetrics {
            cycle_ms: h,
            ..WorkerMetrics::default()
        }),
    });
    let text = encode(s).expect("encodes");
    let scrape = parse(&text);
    let hist = scrape
        .samples
        .iter()
        .find(|x| x.metric == "gridbot_worker_cycle_duration_seconds")
        .expect("histogram");
    // The worker id's quote and backslash are escaped and read back whole.
    assert_eq!(hist.labels.get("worker"), Some("w\\\"1\\\\x"));
    let prometheus_parse::Value::Histogram(buckets) = &hist.value else {
        panic!("not a histogram: {:?}", hist.value);
    };
    let at = |le: f64| {
        buckets
            .iter()
            .find(|b| b.less_than == le || (b.less_than - le).abs() < 1e-12)
            .map(|b| b.count)
    };
    assert_eq!(at(0.01), Some(2.0), "3 ms and 10 ms are <= 10 ms");
    assert_eq!(at(0.025), Some(3.0));
    assert_eq!(at(0.1), Some(4.0));
    assert_eq!(at(60.0), Some(4.0), "70 s is above the last bound");
    assert_eq!(at(f64::INFINITY), Some(5.0));
    let count = scrape
        .samples
        .iter()
        .find(|x| x.metric == "gridbot_worker_cycle_duration_seconds_count")
        .expect("count");
    assert_eq!(count.value, prometheus_parse::Value::Untyped(5.0));
    let sum = scrape
        .samples
        .iter()
        .find(|x| x.metric == "gridbot_worker_cycle_duration_seconds_sum")
        .expect("sum");
    assert_eq!(sum.value, prometheus_parse::Value::Untyped(70.094));
    let stream: Vec<_> = scrape
        .samples
        .iter()
        .filter(|x| x.metric == "gridbot_worker_stream_state")
        .map(|x| {
            (
                x.labels.get("state").unwrap_or("").to_string(),
                x.value.clone(),
            )
        })
        .collect();
    assert_eq!(stream.len(), 4);
    assert!(stream.contains(&("polling".into(), prometheus_parse::Value::Gauge(1.0))));
    assert!(stream.contains(&("streaming".into(), prometheus_parse::Value::Gauge(0.0))));
}

#[test]
fn a_malformed_histogram_is_refused_by_its_check() {
    let h = CycleHistogram {
        bounds_ms: vec![10, 5],
        counts: vec![0, 0, 0],
        sum_ms: 0,
    };
    assert!(h.check().is_err());
    let h = CycleHistogram {
        bounds_ms: vec![5, 10],
        counts: vec![0, 0],
        sum_ms: 0,
    };
    assert!(h.check().is_err());
    assert!(CycleHistogram::new().check().is_ok());
}
