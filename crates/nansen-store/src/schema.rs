//! Versioned migrations, written once for both databases: `{id}` is the key column,
//! `{blob}` the binary type. A migration never changes once released; add the next one.

use crate::db::{Connection, DbError, Dialect};

const MIGRATIONS: &[&str] = &[
    // 1: identity, datasets, versions, observation chunks, access requests, audit
    r#"
CREATE TABLE orgs (
    id {id},
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE users (
    id {id},
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE memberships (
    user_id BIGINT NOT NULL REFERENCES users(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, org_id)
);
CREATE TABLE tokens (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE TABLE datasets (
    id {id},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    methodology TEXT NOT NULL DEFAULT '',
    licence TEXT NOT NULL DEFAULT '',
    update_frequency TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    sharing TEXT NOT NULL DEFAULT 'private',
    sensitive BIGINT NOT NULL DEFAULT 0,
    threshold BIGINT NOT NULL DEFAULT 5,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, slug)
);
CREATE TABLE versions (
    id {id},
    dataset_id BIGINT NOT NULL REFERENCES datasets(id),
    number BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    mode TEXT NOT NULL,
    rows_read BIGINT NOT NULL,
    observations BIGINT NOT NULL,
    added BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    warnings TEXT NOT NULL DEFAULT '[]',
    redacted_at TEXT,
    redacted_by TEXT,
    UNIQUE (dataset_id, number)
);
CREATE TABLE chunks (
    version_id BIGINT NOT NULL REFERENCES versions(id),
    kind TEXT NOT NULL,
    seq BIGINT NOT NULL,
    observations BIGINT NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (version_id, kind, seq)
);
CREATE TABLE access_requests (
    id {id},
    dataset_id BIGINT NOT NULL REFERENCES datasets(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
"#,
    // 2: web sessions (stored, so every node knows them and a restart keeps them) and the
    // platform operators who may add organisations from the web.
    r#"
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
ALTER TABLE users ADD COLUMN operator BIGINT NOT NULL DEFAULT 0;
"#,
    // 3: early warning. Watches and what they found, webhook subscriptions and their outbox
    // (written in the transaction of the change it reports, so a crash loses none), and
    // contingency plans. Rule settings, forecasts, triggers and actions are JSON documents.
    r#"
CREATE TABLE watches (
    id {id},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    dataset_id BIGINT NOT NULL REFERENCES datasets(id),
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    partners TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    checked_version BIGINT NOT NULL DEFAULT 0,
    checked_at TEXT,
    outlook TEXT NOT NULL DEFAULT '',
    problem TEXT NOT NULL DEFAULT ''
);
CREATE TABLE alerts (
    id {id},
    watch_id BIGINT NOT NULL REFERENCES watches(id),
    series TEXT NOT NULL,
    period TEXT NOT NULL,
    rule TEXT NOT NULL,
    detail TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    assignee TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (watch_id, series, period, rule)
);
CREATE TABLE alert_comments (
    id {id},
    alert_id BIGINT NOT NULL REFERENCES alerts(id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE webhooks (
    id {id},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    watch_id BIGINT REFERENCES watches(id),
    dataset_id BIGINT REFERENCES datasets(id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE TABLE deliveries (
    id {id},
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id),
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE TABLE plans (
    id {id},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    title TEXT NOT NULL,
    scenario TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    triggered_since TEXT,
    reason TEXT NOT NULL DEFAULT '',
    checked_at TEXT
);
"#,
    // 4: documents and search. Files are kept once per content (SHA-256); a document's
    // versions never change, and keep the text read out of them, so the index can be rebuilt
    // without reading the files again. The search outbox is a log: each node's index follows
    // it by sequence number, and a change writes its entry in its own transaction.
    r#"
CREATE TABLE files (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    data {blob} NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE documents (
    id {id},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    title TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    countries TEXT NOT NULL DEFAULT '',
    themes TEXT NOT NULL DEFAULT '',
    doc_date TEXT,
    language TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    sharing TEXT NOT NULL DEFAULT 'private',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE document_versions (
    id {id},
    document_id BIGINT NOT NULL REFERENCES documents(id),
    number BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    size BIGINT NOT NULL,
    file_sha256 TEXT NOT NULL REFERENCES files(sha256),
    text TEXT NOT NULL,
    pages BIGINT NOT NULL,
    no_text TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (document_id, number)
);
CREATE TABLE document_requests (
    id {id},
    document_id BIGINT NOT NULL REFERENCES documents(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE search_outbox (
    seq BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    ref BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
"#,
    // 5: rows an import set aside (--set-aside), as they came, with why: a CSV per version.
    // Destroyed with the version's data when it is redacted.
    r#"
CREATE TABLE set_aside (
    version_id BIGINT PRIMARY KEY REFERENCES versions(id),
    row_count BIGINT NOT NULL,
    content TEXT NOT NULL
);
"#,
    // 6: staged uploads, so any node shows, confirms or discards what another received. The
    // file is kept in parts until the upload lands, is refused or discarded; the record stays
    // a day to be shown.
    r#"
CREATE TABLE staged_uploads (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    dataset TEXT NOT NULL,
    file_name TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    staged_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    complete BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX staged_uploads_owner ON staged_uploads (owner, status);
CREATE TABLE staged_upload_parts (
    upload_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
"#,
    // 7: one table of access requests for every kind of subject. Dataset requests keep their
    // numbers; document requests are numbered after them.
    r#"
CREATE TABLE requests (
    id {id},
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    subject_org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX requests_subject ON requests (kind, subject_id, status);
CREATE INDEX requests_owner ON requests (subject_org_id);
CREATE INDEX requests_user ON requests (user_id);
INSERT INTO requests (id, kind, subject_id, subject_org_id, org_id, user_id, reason, status, created_at, decided_by, decided_at, note)
    SELECT a.id, 'dataset', a.dataset_id, d.org_id, a.org_id, a.user_id, a.reason, a.status, a.created_at, a.decided_by, a.decided_at, a.note
    FROM access_requests a JOIN datasets d ON d.id = a.dataset_id ORDER BY a.id;
{sync_ids:requests}
INSERT INTO requests (kind, subject_id, subject_org_id, org_id, user_id, reason, status, created_at, decided_by, decided_at, note)
    SELECT 'document', a.document_id, d.org_id, a.org_id, a.user_id, a.reason, a.status, a.created_at, a.decided_by, a.decided_at, a.note
    FROM document_requests a JOIN documents d ON d.id = a.document_id ORDER BY a.id;
DROP TABLE access_requests;
DROP TABLE document_requests;
"#,
    // 8: operations: programmes, their partners and pledges, and cases. A case's personal
    // and protection data is only ever stored sealed with the case's own key
    // (`case_sections`, the sealed notes and reasons); that key is stored wrapped by the
    // installation's case key, which is kept outside the database. People are found through
    // keyed hashes of their names' skeletons and birth dates (`case_index`); the pipeline
    // counts people from `case_people`, which holds no name and no date, into
    // `pipeline_counts` in the transaction of each change (who entered which stage when), and
    // `pipeline_changes` says the programme's pipeline dataset is behind. `case_key_state`
    // says which generation of the case key file wraps new keys, so every node agrees while
    // a rotation runs, and whether an erasure still owes one.
    r#"
ALTER TABLE memberships ADD COLUMN supervisor BIGINT NOT NULL DEFAULT 0;
CREATE TABLE programmes (
    id {id},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    slug TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_on TEXT,
    ends_on TEXT,
    retention_days BIGINT,
    stages TEXT NOT NULL,
    closed_at TEXT,
    pipeline_changes BIGINT NOT NULL DEFAULT 0,
    pipeline_seen BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, slug)
);
CREATE TABLE pipeline_counts (
    programme_id BIGINT NOT NULL REFERENCES programmes(id),
    month TEXT NOT NULL,
    stage TEXT NOT NULL,
    geo TEXT NOT NULL,
    origin TEXT NOT NULL,
    sex TEXT NOT NULL,
    age TEXT NOT NULL,
    persons BIGINT NOT NULL,
    cases BIGINT NOT NULL,
    PRIMARY KEY (programme_id, month, stage, geo, origin, sex, age)
);
CREATE TABLE programme_partners (
    programme_id BIGINT NOT NULL REFERENCES programmes(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    part TEXT NOT NULL,
    PRIMARY KEY (programme_id, org_id)
);
CREATE TABLE pledges (
    id {id},
    programme_id BIGINT NOT NULL REFERENCES programmes(id),
    state TEXT NOT NULL,
    places BIGINT NOT NULL,
    uam_places BIGINT NOT NULL,
    medical_places BIGINT NOT NULL,
    starts_on TEXT,
    ends_on TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (programme_id, state)
);
CREATE TABLE pledge_changes (
    id {id},
    pledge_id BIGINT NOT NULL REFERENCES pledges(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    places BIGINT NOT NULL,
    uam_places BIGINT NOT NULL,
    medical_places BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE cases (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    programme_id BIGINT NOT NULL REFERENCES programmes(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    stage TEXT NOT NULL,
    stage_since TEXT NOT NULL,
    pending_stage TEXT,
    assignee_id BIGINT REFERENCES users(id),
    revision BIGINT NOT NULL DEFAULT 1,
    persons BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    erased_at TEXT,
    erased_by TEXT,
    erase_reason TEXT
);
CREATE INDEX cases_programme ON cases (programme_id, stage, updated_at);
CREATE INDEX cases_org ON cases (org_id, programme_id);
CREATE INDEX cases_assignee ON cases (assignee_id);
CREATE TABLE case_keys (
    case_id BIGINT PRIMARY KEY REFERENCES cases(id),
    generation BIGINT NOT NULL,
    wrapped {blob} NOT NULL
);
CREATE TABLE case_sections (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    section TEXT NOT NULL,
    sealed {blob} NOT NULL,
    PRIMARY KEY (case_id, section)
);
CREATE TABLE case_index (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    member BIGINT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX case_index_hash ON case_index (hash, case_id);
CREATE INDEX case_index_case ON case_index (case_id);
CREATE TABLE case_people (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    member BIGINT NOT NULL,
    nationality TEXT NOT NULL,
    sex TEXT NOT NULL,
    age_band TEXT NOT NULL,
    principal BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (case_id, member)
);
CREATE TABLE case_links (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    linked_id BIGINT NOT NULL REFERENCES cases(id),
    PRIMARY KEY (case_id, linked_id)
);
CREATE TABLE case_events (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_stage TEXT,
    to_stage TEXT,
    note {blob}
);
CREATE INDEX case_events_case ON case_events (case_id, id);
CREATE TABLE referrals (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    from_org_id BIGINT NOT NULL REFERENCES orgs(id),
    to_org_id BIGINT NOT NULL REFERENCES orgs(id),
    sections TEXT NOT NULL,
    reason {blob} NOT NULL,
    consent_overridden BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_note {blob}
);
CREATE INDEX referrals_case ON referrals (case_id);
CREATE INDEX referrals_to ON referrals (to_org_id, status);
CREATE TABLE case_key_state (
    id BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL,
    rotation_due BIGINT NOT NULL DEFAULT 0
);
INSERT INTO case_key_state (id, generation, rotation_due) VALUES (1, 1, 0);
"#,
    // 9: a case's receiving state, how long cases stayed in each stage, documents of cases.
    r#"
ALTER TABLE cases ADD COLUMN state TEXT;
CREATE INDEX cases_waiting ON cases (programme_id, stage, stage_since);
DROP INDEX cases_programme;
CREATE INDEX cases_programme ON cases (programme_id, stage, updated_at, id);
CREATE INDEX cases_recent ON cases (programme_id, updated_at, id);
CREATE TABLE stage_stays (
    programme_id BIGINT NOT NULL REFERENCES programmes(id),
    stage TEXT NOT NULL,
    days BIGINT NOT NULL,
    stays BIGINT NOT NULL,
    PRIMARY KEY (programme_id, stage, days)
);
CREATE TABLE case_documents (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    section TEXT NOT NULL,
    name {blob} NOT NULL,
    content {blob} NOT NULL,
    media_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX case_documents_case ON case_documents (case_id);
"#,
    // 10: where each programme's cases are now (by stage and receiving state, '' while not
    // matched) and since which day they wait in their stage, kept as counts in the
    // transaction of each change, so the dashboard reads a few rows rather than every case.
    r#"
CREATE TABLE stage_positions (
    programme_id BIGINT NOT NULL REFERENCES programmes(id),
    stage TEXT NOT NULL,
    state TEXT NOT NULL,
    cases BIGINT NOT NULL,
    persons BIGINT NOT NULL,
    PRIMARY KEY (programme_id, stage, state)
);
CREATE TABLE stage_waits (
    programme_id BIGINT NOT NULL REFERENCES programmes(id),
    stage TEXT NOT NULL,
    since TEXT NOT NULL,
    cases BIGINT NOT NULL,
    PRIMARY KEY (programme_id, stage, since)
);
INSERT INTO stage_positions (programme_id, stage, state, cases, persons)
    SELECT programme_id, stage, COALESCE(state, ''), COUNT(*), SUM(persons) FROM cases
    WHERE erased_at IS NULL GROUP BY programme_id, stage, COALESCE(state, '');
INSERT INTO stage_waits (programme_id, stage, since, cases)
    SELECT programme_id, stage, substr(stage_since, 1, 10), COUNT(*) FROM cases
    WHERE erased_at IS NULL GROUP BY programme_id, stage, substr(stage_since, 1, 10);
CREATE INDEX cases_since ON cases (programme_id, stage_since, id);
"#,
    // 11: matching (issue 16). An organisation's country (the receiving state it speaks
    // for); what a pledging state speaks and prefers; a programme's matching settings (score
    // weights, the sections a match refers, an uploaded score matrix) as JSON. A proposal
    // keeps its figures and per-state table in the open (no person in them) and each case's
    // explanation sealed with the case's own key, so an erasure takes it too.
    r#"
ALTER TABLE orgs ADD COLUMN country TEXT;
ALTER TABLE pledges ADD COLUMN languages TEXT NOT NULL DEFAULT '';
ALTER TABLE pledges ADD COLUMN prefers TEXT NOT NULL DEFAULT '';
ALTER TABLE pledges ADD COLUMN excludes TEXT NOT NULL DEFAULT '';
ALTER TABLE programmes ADD COLUMN matching TEXT NOT NULL DEFAULT '{}';
CREATE TABLE proposals (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    programme_id BIGINT NOT NULL REFERENCES programmes(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX proposals_programme ON proposals (programme_id, id);
CREATE TABLE proposal_cases (
    proposal_id BIGINT NOT NULL REFERENCES proposals(id),
    case_id BIGINT NOT NULL REFERENCES cases(id),
    state TEXT,
    explanation {blob} NOT NULL,
    decision TEXT,
    decided_by TEXT,
    decided_at TEXT,
    referral_id BIGINT REFERENCES referrals(id),
    PRIMARY KEY (proposal_id, case_id)
);
CREATE INDEX proposal_cases_referral ON proposal_cases (referral_id);
"#,
    // 12: data gathering (issue 17): reporting templates, each version's definition as its
    // owner wrote it (TOML), so a return is always read against the version it answered;
    // submissions, each revision of a reporter's return for a period kept whole (its cells as
    // CSV) with its review status.
    r#"
CREATE TABLE templates (
    id {id},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    slug TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, slug)
);
CREATE TABLE template_versions (
    template_id BIGINT NOT NULL REFERENCES templates(id),
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (template_id, version)
);
CREATE TABLE submissions (
    id {id},
    ref TEXT NOT NULL UNIQUE,
    template_id BIGINT NOT NULL REFERENCES templates(id),
    template_version BIGINT NOT NULL,
    reporter_id BIGINT NOT NULL REFERENCES orgs(id),
    period TEXT NOT NULL,
    revision BIGINT NOT NULL,
    status TEXT NOT NULL,
    cells TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    UNIQUE (template_id, reporter_id, period, revision)
);
"#,
    // 13: review of returns (issue 17): who decided a revision and when, the dataset version
    // an approval landed as, how many cells it holds (so lists need not read them), and the
    // reviewers' and reporters' comments, each pinned to a cell by its key (or to the whole
    // return).
    r#"
ALTER TABLE submissions ADD COLUMN reviewed_by TEXT;
ALTER TABLE submissions ADD COLUMN reviewed_at TEXT;
ALTER TABLE submissions ADD COLUMN dataset_version BIGINT;
ALTER TABLE submissions ADD COLUMN cells_count BIGINT NOT NULL DEFAULT 0;
UPDATE submissions SET cells_count = LENGTH(cells) - LENGTH(REPLACE(cells, '
', '')) - 1;
CREATE INDEX submissions_of_template ON submissions (template_id, period);
CREATE TABLE submission_comments (
    id {id},
    submission_id BIGINT NOT NULL REFERENCES submissions(id),
    cell TEXT NOT NULL,
    text TEXT NOT NULL,
    author TEXT NOT NULL,
    reviewer BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX submission_comments_of ON submission_comments (submission_id);
"#,
    // 14: reminders to reporters (each event once), webhooks on a template, returns' drafts.
    r#"
ALTER TABLE webhooks ADD COLUMN template_id BIGINT REFERENCES templates(id);
CREATE TABLE reminders (
    id {id},
    template_id BIGINT NOT NULL REFERENCES templates(id),
    reporter_id BIGINT NOT NULL REFERENCES orgs(id),
    period TEXT NOT NULL,
    event TEXT NOT NULL,
    deadline TEXT NOT NULL,
    recipients TEXT NOT NULL,
    email TEXT NOT NULL,
    email_error TEXT NOT NULL DEFAULT '',
    email_attempts BIGINT NOT NULL DEFAULT 0,
    webhooks BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    emailed_at TEXT,
    UNIQUE (template_id, reporter_id, period, event)
);
CREATE TABLE return_drafts (
    id {id},
    template_id BIGINT NOT NULL REFERENCES templates(id),
    reporter_id BIGINT NOT NULL REFERENCES orgs(id),
    period TEXT NOT NULL,
    grid TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    UNIQUE (template_id, reporter_id, period)
);
"#,
];

fn dialect_sql(sql: &str, d: Dialect) -> String {
    let (id, blob) = match d {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BYTEA"),
    };
    // After rows copied with their ids, new rows are numbered after them (SQLite's
    // AUTOINCREMENT follows by itself; a PostgreSQL sequence must be told).
    let sync = match d {
        Dialect::Sqlite => String::new(),
        Dialect::Postgres => "SELECT setval(pg_get_serial_sequence('requests', 'id'), COALESCE((SELECT MAX(id) FROM requests), 0) + 1, false);".into(),
    };
    sql.replace("{id}", id)
        .replace("{blob}", blob)
        .replace("{sync_ids:requests}", &sync)
}

/// Brings the schema up to date; safe to run on every start, from several nodes at once.
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Applies the migrations up to number `upto`.
fn migrate_to(conn: &mut Connection, upto: usize) -> Result<(), DbError> {
    let d = conn.dialect();
    if d == Dialect::Postgres {
        // One node migrates at a time.
        conn.batch("SELECT pg_advisory_lock(7263001)")?;
    }
    let result = (|| {
        conn.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")?;
        let done = conn.query(
            "SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations",
            &[],
        )?;
        let current = match done.first() {
            Some(r) => r.get::<i64>("version")? as usize,
            None => 0,
        };
        for (i, m) in MIGRATIONS.iter().enumerate().take(upto).skip(current) {
            conn.batch("BEGIN")?;
            let applied = conn.batch(&dialect_sql(m, d)).and_then(|_| {
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    &[(i as i64 + 1).into(), crate::now().into()],
                )
            });
            match applied {
                Ok(_) => conn.batch("COMMIT")?,
                Err(e) => {
                    let _ = conn.batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        Ok(())
    })();
    if d == Dialect::Postgres {
        let _ = conn.batch("SELECT pg_advisory_unlock(7263001)");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    /// Requests made before datasets and documents shared one table keep everything they
    /// said; dataset requests keep their numbers, and new requests are numbered after all.
    fn requests_survive_the_move_to_one_table(conn: &mut Connection) {
        migrate_to(conn, 6).unwrap();
        let at: Value = "2026-01-01T00:00:00Z".into();
        for sql in [
            "INSERT INTO orgs (id, slug, name, created_at) VALUES (1, 'euaa', 'EUAA', ?)",
            "INSERT INTO orgs (id, slug, name, created_at) VALUES (2, 'iom', 'IOM', ?)",
            "INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'v@iom.int', 'x', ?)",
            "INSERT INTO datasets (id, org_id, slug, title, created_at) VALUES (1, 1, 'apps', 'Apps', ?)",
            "INSERT INTO documents (id, org_id, title, doc_type, created_by, created_at) VALUES (1, 1, 'Reception', 'report', 'x', ?)",
            "INSERT INTO access_requests (id, dataset_id, org_id, user_id, reason, status, created_at) VALUES (5, 1, 2, 1, 'planning', 'approved', ?)",
            "INSERT INTO access_requests (id, dataset_id, org_id, user_id, reason, created_at) VALUES (7, 1, 2, 1, 'again', ?)",
            "INSERT INTO document_requests (id, document_id, org_id, user_id, reason, created_at) VALUES (1, 1, 2, 1, 'monitoring', ?)",
        ] {
            conn.execute(sql, std::slice::from_ref(&at)).unwrap();
        }
        migrate(conn).unwrap();
        let rows = conn
            .query(
                "SELECT id, kind, subject_id, subject_org_id, org_id, reason, status FROM requests ORDER BY id",
                &[],
            )
            .unwrap();
        let got: Vec<(i64, String, i64, i64, String, String)> = rows
            .iter()
            .map(|r| {
                (
                    r.get("id").unwrap(),
                    r.get("kind").unwrap(),
                    r.get("subject_id").unwrap(),
                    r.get("subject_org_id").unwrap(),
                    r.get("reason").unwrap(),
                    r.get("status").unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    5,
                    "dataset".into(),
                    1,
                    1,
                    "planning".into(),
                    "approved".into()
                ),
                (7, "dataset".into(), 1, 1, "again".into(), "pending".into()),
                (
                    8,
                    "document".into(),
                    1,
                    1,
                    "monitoring".into(),
                    "pending".into()
                ),
            ]
        );
        let next = conn
            .query(
                "INSERT INTO requests (kind, subject_id, subject_org_id, org_id, user_id, reason, created_at) VALUES ('dataset', 1, 1, 2, 1, 'new', '2026') RETURNING id",
                &[],
            )
            .unwrap();
        assert_eq!(next[0].get::<i64>("id").unwrap(), 9);
    }

    #[test]
    fn requests_survive_the_move_to_one_table_on_sqlite() {
        let mut conn = Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        requests_survive_the_move_to_one_table(&mut conn);
    }

    #[test]
    fn requests_survive_the_move_to_one_table_on_postgres() {
        let Some(db) = crate::testing::fresh_postgres() else {
            return;
        };
        let client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
        requests_survive_the_move_to_one_table(&mut Connection::Postgres(crate::db::Pg::new(
            client,
        )));
    }
}
