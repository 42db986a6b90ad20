//! Grid parsing: key order, ranges, types, random draws, ids, and the
//! rejection of bad grids naming the key.

use super::*;

fn parse(text: &str) -> Result<Grid, GridError> {
    Grid::parse(text, &Config::default())
}

fn rejected(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn keys_keep_file_order_and_ranges_expand() {
    let g = parse(
        r#"
[sweep]
objective = "sortino"
min_trades = 3
[params]
"strategies.mtf_long.target_atr_mult" = { from = 6, to = 7, step = 0.5 }
risk.cooldown_minutes = [30, 60]
[params.strategies.mtf_long]
stop_atr_mult = [2.0, 3]
"#,
    )
    .unwrap();
    let keys: Vec<&str> = g.params.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "strategies.mtf_long.target_atr_mult",
            "risk.cooldown_minutes",
            "strategies.mtf_long.stop_atr_mult"
        ]
    );
    assert_eq!(
        g.params[0].values,
        [
            ParamValue::Float(6.0),
            ParamValue::Float(6.5),
            ParamValue::Float(7.0)
        ]
    );
    assert_eq!(
        g.params[1].values,
        [ParamValue::Int(30), ParamValue::Int(60)]
    );
    assert_eq!(g.params[2].values[1], ParamValue::Float(3.0));
    assert_eq!(g.len(), 12);
    assert_eq!((g.objective, g.min_trades), (Objective::Sortino, 3));
    // The last key varies fastest.
    assert_eq!(
        g.set(1),
        [
            ParamValue::Float(6.0),
            ParamValue::Int(30),
            ParamValue::Float(3.0)
        ]
    );
    let cfg = g.apply(&g.set(11)).unwrap();
    assert_eq!(cfg.strategies.mtf_long.target_atr_mult, 7.0);
    assert_eq!(cfg.risk.cooldown_minutes, 60);
    assert_eq!(cfg.strategies.mtf_long.stop_atr_mult, 3.0);
}

#[test]
fn decimal_ranges_have_no_binary_noise() {
    let g =
        parse("[params]\nsizing.base_risk_pct = { from = 0.1, to = 0.3, step = 0.1 }\n").unwrap();
    let shown: Vec<String> = g.params[0].values.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["0.1", "0.2", "0.3"]);
}

#[test]
fn ids_are_stable_and_ignore_key_order() {
    let a =
        parse("[params]\nrisk.cooldown_minutes = [30]\nsizing.base_risk_pct = [0.5]\n").unwrap();
    let b =
        parse("[params]\nsizing.base_risk_pct = [0.5]\nrisk.cooldown_minutes = [30]\n").unwrap();
    let id_a = set_id(&a.params, &a.set(0));
    assert_eq!(id_a, set_id(&b.params, &b.set(0)));
    assert_eq!(id_a.len(), 16);
    // FNV-1a 64 of "risk.cooldown_minutes=30\nsizing.base_risk_pct=0.5\n".
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in "risk.cooldown_minutes=30\nsizing.base_risk_pct=0.5\n".bytes() {
        h = (h ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    assert_eq!(id_a, format!("{h:016x}"));
}

#[test]
fn random_mode_draws_distinct_sets_reproducibly() {
    let text = "[sweep]\nmode = \"random\"\nsamples = 20\nseed = 7\n[params]\nrisk.cooldown_minutes = { from = 1, to = 100, step = 1 }\nrisk.max_consecutive_losses = [2, 3, 4]\n";
    let a = parse(text).unwrap();
    let b = parse(text).unwrap();
    assert_eq!(a.len(), 20);
    let sets_a: Vec<_> = (0..a.len()).map(|k| a.set(k)).collect();
    let sets_b: Vec<_> = (0..b.len()).map(|k| b.set(k)).collect();
    assert_eq!(sets_a, sets_b);
    let ids: BTreeSet<String> = sets_a.iter().map(|s| set_id(&a.params, s)).collect();
    assert_eq!(ids.len(), 20);
    let other = parse(&text.replace("seed = 7", "seed = 8")).unwrap();
    let sets_c: Vec<_> = (0..other.len()).map(|k| other.set(k)).collect();
    assert_ne!(sets_a, sets_c);
    // More samples than sets: the whole grid.
    let all = parse(&text.replace("samples = 20", "samples = 1000")).unwrap();
    assert_eq!(all.len(), 300);
}

#[test]
fn bad_grids_are_rejected_naming_the_key() {
    let cases = [
        (
            "[params]\nstrategies.mtf_long.no_such = [1]\n",
            "params.strategies.mtf_long.no_such",
        ),
        (
            "[params]\nexchange.leverage = [1, 2]\n",
            "params.exchange.leverage",
        ),
        ("[params]\nrisk.stop_file = [1]\n", "params.risk.stop_file"),
        (
            "[params]\nsizing.base_risk_pct = [-1.0]\n",
            "sizing.base_risk_pct",
        ),
        (
            "[params]\nrisk.cooldown_minutes = [1.5]\n",
            "params.risk.cooldown_minutes",
        ),
        ("[params]\nrisk.cooldown_minutes = [5, 5]\n", "given twice"),
        (
            "[params]\nstrategies.mtf_long.stop_atr_mult = [3.0, 13.0]\n",
            "strategies.mtf_long.stop_atr_mult",
        ),
        (
            "[sweep]\nobjective = \"luck\"\n[params]\nrisk.cooldown_minutes = [5]\n",
            "sweep.objective",
        ),
        (
            "[sweep]\nmode = \"random\"\n[params]\nrisk.cooldown_minutes = [5]\n",
            "sweep.samples",
        ),
        (
            "[sweep]\njobs = 3\n[params]\nrisk.cooldown_minutes = [5]\n",
            "sweep.jobs",
        ),
        ("[sweep]\n", "params"),
        (
            "[params]\nrisk.cooldown_minutes = { from = 5, to = 1, step = 1 }\n",
            "params.risk.cooldown_minutes.to",
        ),
        (
            "[params]\nrisk.cooldown_minutes = { from = 1, to = 5, step = 0 }\n",
            "params.risk.cooldown_minutes.step",
        ),
        (
            "[params]\nrisk.cooldown_minutes = { from = 1, to = 5 }\n",
            "params.risk.cooldown_minutes.step",
        ),
        ("[extra]\n", "extra"),
    ];
    for (text, key) in cases {
        let e = rejected(text);
        assert!(e.contains(key), "grid {text:?}: {e}");
    }
}

#[test]
fn a_relation_broken_by_one_set_rejects_the_grid() {
    // Default target is 12: a stop multiple of 13 breaks "stop below target".
    let e = parse("[params]\nstrategies.mtf_long.stop_atr_mult = [2.0, 13.0]\n").unwrap_err();
    match e {
        GridError::Set { assignment, source } => {
            assert_eq!(assignment, "strategies.mtf_long.stop_atr_mult=13.0");
            assert!(
                source
                    .issues()
                    .iter()
                    .any(|i| i.key.contains("stop_atr_mult")),
                "{source}"
            );
        }
        other => panic!("{other}"),
    }
}
