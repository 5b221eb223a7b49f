//! A year of weekly matching (issue 16's dynamic simulation, run by `bench/matching.sh`).
//! The instance's households arrive in 52 weekly batches in a seeded random order (linked
//! households together); the pledges are fixed for the year, and no week knows the next.
//!
//! - greedy: each household, as it arrives, goes to the state with room where it is worth
//!   most;
//! - nansen: each week solves its arrivals together with an expected future drawn from the
//!   households seen so far (as many as the remaining weeks should bring), so places are kept
//!   for those who will need them more; only the week's real households are placed.
//!
//! Both are compared with the hindsight optimum: the whole year solved at once, whose proven
//! bound is the denominator, so each share printed is a floor on the true one.
//!
//! It first times a what-if: the year's assignment solved again, from itself, with one pair
//! forbidden.
//!
//! Usage: weekly INSTANCE.json [WEEKS] [SECONDS_PER_WEEK]

use nansen_match::{solve, Case, Instance, Options};
use std::time::Duration;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Households that travel together, as case indexes.
fn groups(i: &Instance) -> Vec<Vec<usize>> {
    let index = i.case_index();
    let mut seen = vec![false; i.cases.len()];
    let mut out = Vec::new();
    for start in 0..i.cases.len() {
        if seen[start] {
            continue;
        }
        let mut g = vec![start];
        seen[start] = true;
        let mut k = 0;
        while k < g.len() {
            for l in &i.cases[g[k]].linked {
                if let Some(&j) = index.get(l.as_str()) {
                    if !seen[j] {
                        seen[j] = true;
                        g.push(j);
                    }
                }
            }
            k += 1;
        }
        out.push(g);
    }
    out
}

type Room = Vec<[i64; 3]>;

fn needs(c: &Case) -> [i64; 3] {
    [
        c.size,
        i64::from(c.unaccompanied_child),
        i64::from(c.medical),
    ]
}

/// Places a group in state `s` if it fits: its value, or None.
fn place(i: &Instance, g: &[usize], s: usize, room: &mut Room) -> Option<f64> {
    let mut need = [0; 3];
    let mut value = 0.0;
    for &c in g {
        value += i.value(c, s)?;
        for (k, n) in need.iter_mut().zip(needs(&i.cases[c])) {
            *k += n;
        }
    }
    if (0..3).any(|k| room[s][k] < need[k]) || value <= 0.0 {
        return None;
    }
    for k in 0..3 {
        room[s][k] -= need[k];
    }
    Some(value)
}

fn greedy_week(i: &Instance, week: &[Vec<usize>], room: &mut Room) -> f64 {
    let mut total = 0.0;
    for g in week {
        let mut order: Vec<(f64, usize)> = (0..i.states.len())
            .filter_map(|s| {
                g.iter()
                    .map(|&c| i.value(c, s))
                    .sum::<Option<f64>>()
                    .map(|v| (v, s))
            })
            .collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0));
        if let Some(v) = order.iter().find_map(|&(_, s)| place(i, g, s, room)) {
            total += v;
        }
    }
    total
}

/// This week's households with an expected future drawn from those seen so far, solved
/// against the places left; the real households are placed as the solution says.
fn nansen_week(
    i: &Instance,
    week: &[Vec<usize>],
    seen: &[Vec<usize>],
    future_groups: usize,
    room: &mut Room,
    rng: &mut Rng,
    seconds: f64,
) -> f64 {
    let mut cases = Vec::new();
    let mut score = Vec::new();
    let mut real: Vec<usize> = Vec::new();
    for g in week {
        for &c in g {
            real.push(c);
            cases.push(i.cases[c].clone());
            score.push(i.score[c].clone());
        }
    }
    for n in 0..future_groups {
        let g = &seen[rng.below(seen.len())];
        for (k, &c) in g.iter().enumerate() {
            let mut copy = i.cases[c].clone();
            copy.id = format!("future-{n}-{k}");
            copy.linked = g
                .iter()
                .enumerate()
                .filter(|&(m, _)| m != k)
                .map(|(m, _)| format!("future-{n}-{m}"))
                .collect();
            cases.push(copy);
            score.push(i.score[c].clone());
        }
    }
    let mut states = i.states.clone();
    for (s, r) in states.iter_mut().zip(room.iter()) {
        s.places = r[0];
        s.uam_places = r[1];
        s.medical_places = r[2];
    }
    if states.iter().all(|s| s.places <= 0) {
        return 0.0;
    }
    let batch = Instance {
        states,
        cases,
        score,
    };
    let solution = solve(
        &batch,
        &Options {
            time_limit: Duration::from_secs_f64(seconds),
            ..Default::default()
        },
    )
    .expect("no pins, so always solvable");
    let mut total = 0.0;
    let mut k = 0;
    for g in week {
        let s = solution.assignment[k];
        k += g.len();
        if let Some(s) = s {
            total += place(i, g, s, room).expect("the solution fits the places left");
        }
    }
    total
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: weekly INSTANCE.json [WEEKS] [SECONDS_PER_WEEK]");
    let weeks: usize = args.get(2).map_or(52, |w| w.parse().expect("WEEKS"));
    let seconds: f64 = args
        .get(3)
        .map_or(0.5, |s| s.parse().expect("SECONDS_PER_WEEK"));
    let i = Instance::from_json(&std::fs::read_to_string(path).expect("the instance"))
        .expect("a valid instance");
    let mut rng = Rng(0x5EED_2026);
    let mut all = groups(&i);
    for k in (1..all.len()).rev() {
        all.swap(k, rng.below(k + 1));
    }
    let per_week = all.len().div_ceil(weeks);
    let batches: Vec<&[Vec<usize>]> = all.chunks(per_week).collect();

    let started = std::time::Instant::now();
    let hindsight = solve(
        &i,
        &Options {
            time_limit: Duration::from_secs(30),
            ..Default::default()
        },
    )
    .expect("solvable");
    println!(
        "hindsight: objective {:.1}, bound {:.1}, gap {:.2e} ({:.1} s); shares below are of the bound",
        hindsight.objective,
        hindsight.bound,
        hindsight.gap,
        started.elapsed().as_secs_f64()
    );
    // What if one household may not go where the hindsight placed it? Solved again from
    // that assignment, with a second to search.
    let moved_case = (0..i.cases.len())
        .find(|&c| hindsight.assignment[c].is_some())
        .expect("someone is placed");
    let started = std::time::Instant::now();
    let what_if = solve(
        &i,
        &Options {
            time_limit: Duration::from_secs(1),
            forbids: vec![(moved_case, hindsight.assignment[moved_case].unwrap())],
            start: hindsight.assignment.clone(),
            ..Default::default()
        },
    )
    .expect("solvable");
    let moved = (0..i.cases.len())
        .filter(|&c| what_if.assignment[c] != hindsight.assignment[c])
        .count();
    println!(
        "what-if (one pair forbidden, from the hindsight assignment): objective {:.1}, gap {:.2e}, {moved} cases moved, {:.2} s",
        what_if.objective,
        what_if.gap,
        started.elapsed().as_secs_f64()
    );
    let start_room: Room = i
        .states
        .iter()
        .map(|s| [s.places, s.uam_places, s.medical_places])
        .collect();
    let (mut greedy_room, mut nansen_room) = (start_room.clone(), start_room);
    let (mut greedy, mut nansen) = (0.0, 0.0);
    let mut seen: Vec<Vec<usize>> = Vec::new();
    let started = std::time::Instant::now();
    println!("week\tarrived\tgreedy\tnansen\tgreedy_share\tnansen_share");
    for (w, week) in batches.iter().enumerate() {
        seen.extend(week.iter().cloned());
        let remaining = batches.len() - w - 1;
        // The future this week expects: the average week so far, for each week left.
        let future = seen.len() * remaining / (w + 1);
        greedy += greedy_week(&i, week, &mut greedy_room);
        nansen += nansen_week(&i, week, &seen, future, &mut nansen_room, &mut rng, seconds);
        println!(
            "{}\t{}\t{greedy:.1}\t{nansen:.1}\t{:.4}\t{:.4}",
            w + 1,
            week.iter().map(Vec::len).sum::<usize>(),
            greedy / hindsight.bound,
            nansen / hindsight.bound
        );
    }
    println!(
        "year: greedy {:.1} ({:.2}% of the hindsight bound), nansen {:.1} ({:.2}%), {:.1} s for {} weekly solves",
        greedy,
        100.0 * greedy / hindsight.bound,
        nansen,
        100.0 * nansen / hindsight.bound,
        started.elapsed().as_secs_f64(),
        batches.len()
    );
}
