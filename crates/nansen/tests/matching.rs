//! `nansen match solve` from outside: an instance written by the shared generator, the
//! answer's fields, and its assignment checked against every constraint by code of this test
//! alone (not the solver's, not `nansen_match::check`).

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

fn nansen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nansen"))
        .args(args)
        .output()
        .unwrap()
}

/// The generator of `../shared/tools`, or None (with a note) where it is not here.
fn generated(dir: &Path, cases: usize, states: usize) -> Option<std::path::PathBuf> {
    let tool =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/gen_relocation.py");
    if !tool.exists() {
        eprintln!("skipped: {} is not here", tool.display());
        return None;
    }
    let out = dir.join(format!("relocation-{cases}-{states}.json"));
    let ran = Command::new("python3")
        .arg(&tool)
        .args([&cases.to_string(), &states.to_string()])
        .arg(&out)
        .output()
        .ok()?;
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    Some(out)
}

/// Every constraint of the problem, and the objective, from the instance's JSON.
fn independently_checked(instance: &Value, assignment_csv: &str) -> f64 {
    let states: HashMap<&str, (usize, &Value)> = instance["states"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(j, s)| (s["id"].as_str().unwrap(), (j, s)))
        .collect();
    let cases = instance["cases"].as_array().unwrap();
    let case_at: HashMap<&str, usize> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c["id"].as_str().unwrap(), i))
        .collect();
    let mut lines = assignment_csv.lines();
    assert_eq!(lines.next(), Some("case,state"));
    let mut placed: HashMap<&str, &str> = HashMap::new();
    for line in lines {
        let (case, state) = line.split_once(',').unwrap();
        assert!(case_at.contains_key(case), "{case} is in the instance");
        assert!(states.contains_key(state), "{state} is in the instance");
        assert!(
            placed.insert(case, state).is_none(),
            "{case} is placed once"
        );
    }
    let mut used: HashMap<&str, [i64; 3]> = HashMap::new();
    let mut objective = 0.0;
    for (case, state) in &placed {
        let c = &cases[case_at[case]];
        let (j, _) = states[state];
        let score = instance["score"][case_at[case]][j].as_f64().unwrap();
        assert!(score >= 0.0, "{case} in {state} is a forbidden pair");
        let flag = |k: &str| c[k].as_bool().unwrap_or(false);
        let w =
            1.0 + if flag("unaccompanied_child") {
                1.0
            } else {
                0.0
            } + if flag("medical") { 0.5 } else { 0.0 }
                + if flag("disability") { 0.5 } else { 0.0 };
        let size = c["size"].as_i64().unwrap();
        objective += w * size as f64 * score;
        let u = used.entry(state).or_default();
        u[0] += size;
        u[1] += i64::from(flag("unaccompanied_child"));
        u[2] += i64::from(flag("medical"));
    }
    for (state, u) in &used {
        let s = states[state].1;
        for (k, field) in ["places", "uam_places", "medical_places"]
            .iter()
            .enumerate()
        {
            assert!(
                u[k] <= s[field].as_i64().unwrap(),
                "{state}: {field} exceeded"
            );
        }
    }
    for c in cases {
        let id = c["id"].as_str().unwrap();
        for other in c["linked"].as_array().unwrap() {
            assert_eq!(
                placed.get(id),
                placed.get(other.as_str().unwrap()),
                "{id} and {other} travel together"
            );
        }
    }
    objective
}

#[test]
fn a_generated_instance_is_solved_within_its_bound_and_every_constraint_holds_by_an_independent_check(
) {
    let dir = tempfile::tempdir().unwrap();
    let Some(instance_path) = generated(dir.path(), 800, 10) else {
        return;
    };
    let csv = dir.path().join("assignment.csv");
    let o = nansen(&[
        "match",
        "solve",
        instance_path.to_str().unwrap(),
        "--format",
        "json",
        "--time-limit",
        "20",
        "--assignment",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let answer: Value = serde_json::from_slice(&o.stdout).unwrap();
    for field in [
        "objective",
        "bound",
        "gap",
        "seconds",
        "assigned_cases",
        "assigned_persons",
    ] {
        assert!(answer[field].is_number(), "{field} in {answer}");
    }
    let instance: Value =
        serde_json::from_str(&std::fs::read_to_string(&instance_path).unwrap()).unwrap();
    let assignment = std::fs::read_to_string(&csv).unwrap();
    let objective = independently_checked(&instance, &assignment);
    let reported = answer["objective"].as_f64().unwrap();
    assert!(
        (objective - reported).abs() < 1e-6,
        "{objective} vs {reported}"
    );
    assert_eq!(
        answer["assigned_cases"].as_u64().unwrap() as usize,
        assignment.lines().count() - 1
    );
    assert!(answer["bound"].as_f64().unwrap() >= reported);
    assert!(answer["gap"].as_f64().unwrap() <= 1e-3, "{answer}");
}

#[test]
fn a_wrong_instance_is_refused_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        r#"{"states": [{"id": "DEU", "places": 5, "uam_places": 1, "medical_places": 1}],
            "cases": [{"id": "A", "size": 2}], "score": [[0.5, 0.2]]}"#,
    )
    .unwrap();
    let o = nansen(&["match", "solve", path.to_str().unwrap()]);
    assert!(!o.status.success());
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(
        said.contains("score[0] (A): 2 values for 1 states"),
        "{said}"
    );
    let o = nansen(&["match", "solve", path.to_str().unwrap(), "--time-limit=0"]);
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(said.contains("--time-limit: 0 is not"), "{said}");
}
