//! A mutation fuzzer in the test suite: real files of every format, damaged at random
//! (bytes flipped, inserted, removed, the file cut short), must each be read or refused with
//! problems, and never panic. (cargo-fuzz needs a nightly toolchain this project does not have.)

use nansen_formats::{read, write, ExportFormat, ImportOptions};

mod common;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len());
        match rng.below(5) {
            0 if !b.is_empty() => b[at] ^= 1 << rng.below(8),
            1 => b.insert(
                at,
                [b'"', b',', b'\n', b'#', 0xff, b':', b'-', b'{'][rng.below(8)],
            ),
            2 if !b.is_empty() => {
                b.remove(at);
            }
            3 => b.truncate(at),
            _ => {
                let end = (at + rng.below(64)).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
        }
    }
    b
}

#[test]
fn damaged_files_of_every_format_are_read_or_refused_never_panic() {
    let Some(shared) = common::shared_data() else {
        return;
    };
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for rel in [
        "hxl/input-valid.csv",
        "hxl/input-valid-latin1.csv",
        "hxl/input-valid.json",
        "iom-dtm/displacement-admin1-afg.json",
    ] {
        let bytes = std::fs::read(shared.join(rel)).unwrap();
        seeds.push((rel.into(), bytes[..bytes.len().min(6000)].to_vec()));
    }
    for rel in [
        "eurostat/migr_asydcfsta_2017-04-26.csv",
        "unhcr/solutions.csv",
    ] {
        let text = std::fs::read(shared.join(rel)).unwrap();
        let cut = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(60)
            .map(|(i, _)| i + 1)
            .unwrap_or(text.len());
        seeds.push((rel.into(), text[..cut].to_vec()));
    }
    // Our own exports, including the binary ones.
    let cube = read(
        &shared.join("eurostat/migr_asydcfsta_2017-04-26.csv"),
        &ImportOptions {
            file_name: "migr_asydcfsta_2017-04-26.csv".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .cube
    .slice(0, 40);
    for f in [
        ExportFormat::SdmxCsv,
        ExportFormat::Xlsx,
        ExportFormat::Parquet,
        ExportFormat::Hxl,
    ] {
        let mut out = Vec::new();
        write(&cube, f, &[], &mut out).unwrap();
        seeds.push((format!("export.{}", f.extension()), out));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x00f0_0d15_ea5e_0042);
    let (mut read_ok, mut refused) = (0, 0);
    for (name, seed) in &seeds {
        for i in 0..120 {
            let bytes = mutate(&mut rng, seed);
            let path = dir
                .path()
                .join(format!("case-{i}-{}", name.replace('/', "_")));
            std::fs::write(&path, &bytes).unwrap();
            let result = std::panic::catch_unwind(|| {
                read(
                    &path,
                    &ImportOptions {
                        file_name: name.clone(),
                        ..Default::default()
                    },
                )
            });
            match result {
                Ok(Ok(_)) => {
                    read_ok += 1;
                    eprintln!("OK {name}");
                }
                Ok(Err(e)) => {
                    refused += 1;
                    assert!(
                        !e.to_string().is_empty(),
                        "{name} case {i}: a refusal says why"
                    );
                }
                Err(_) => panic!(
                    "{name}: mutation {i} made the reader panic (kept at {})",
                    path.display()
                ),
            }
            let _ = std::fs::remove_file(&path);
        }
    }
    eprintln!("{read_ok} damaged files read, {refused} refused, none panicked");
    // Both paths are exercised: most damage is refused, enough is still read. (How many are
    // read depends on how much of a file the code lists check, not on chance alone.)
    assert!(
        refused > 100 && read_ok > 30,
        "{read_ok} read, {refused} refused"
    );
}
