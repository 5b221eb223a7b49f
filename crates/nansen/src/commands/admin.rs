//! `nansen reindex`, `backup`, `restore` and `audit`: keeping a node and its data whole.

use super::{Ctx, Globals};
use crate::output::{said, Outcome, Progress};
use clap::{Args, Subcommand};
use nansen_app::App;
use std::path::PathBuf;

#[derive(Args)]
pub struct BackupArgs {
    /// The directory to write the backup into (created; must not exist yet)
    dir: PathBuf,
}

impl BackupArgs {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let m = ctx.app.backup(ctx.who, &self.dir)?;
        eprintln!("backed up the {} database to {} at audit entry {}; the folder holds the keys: keep it as secret as the data", m.database, self.dir.display(), m.audit_entry);
        Ok(())
    }
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The backup directory `nansen backup` wrote
    dir: PathBuf,
}

impl RestoreArgs {
    /// Runs before any data is opened: the data directory must not exist yet.
    pub fn exec(self, g: &Globals) -> Outcome {
        let progress = Progress::new();
        let r = App::restore(
            &self.dir,
            &g.data_dir,
            g.database_url.as_deref(),
            &mut |n| progress.show(&format!("indexed {n} entries"), false),
        );
        progress.done();
        let r = r?;
        eprintln!(
            "restored the backup of {} into {}: audit chain intact ({} entries), {} search entries rebuilt",
            r.manifest.taken_at,
            g.data_dir.display(),
            r.audit.entries,
            r.indexed
        );
        Ok(())
    }
}

pub fn reindex(ctx: Ctx) -> Outcome {
    let progress = Progress::new();
    let n = ctx
        .app
        .reindex(&mut |n| progress.show(&format!("indexed {n} entries"), false));
    progress.done();
    eprintln!("search index rebuilt: {} documents and datasets", n?);
    Ok(())
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Prove the audit chain unbroken, untruncated and not rewritten.
    Verify,
    /// Print the audit log.
    Log,
}

impl AuditCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            AuditCommand::Verify => match app.verify_audit()? {
                Ok(r) => writeln!(
                    out,
                    "audit chain intact: {} entries, head {}",
                    r.entries, r.head
                )?,
                Err(broken) => return Err(said(broken)),
            },
            AuditCommand::Log => {
                for e in app.audit_log(who)? {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        e.seq, e.at, e.actor, e.action, e.target, e.detail
                    )?;
                }
            }
        }
        Ok(())
    }
}
