//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`: every route, with examples.

use serde_json::{json, Value};

fn dataset_params() -> Value {
    json!([
        { "name": "org", "in": "path", "required": true, "schema": { "type": "string" }, "example": "euaa" },
        { "name": "slug", "in": "path", "required": true, "schema": { "type": "string" }, "example": "asylum-monthly" }
    ])
}

fn errors(codes: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for c in codes {
        let (desc, code) = match *c {
            "400" => ("The request is malformed", "bad_request"),
            "401" => ("Sign in first: no valid bearer token", "unauthorized"),
            "403" => ("Visible, but not for this", "forbidden"),
            "404" => ("Not found, or not visible to the caller (the two are indistinguishable)", "not_found"),
            "409" => ("In conflict with the current state", "conflict"),
            "422" => ("The file is refused; details name row, column, value and reason", "import_refused"),
            "413" => ("The body is larger than this route takes", "too_large"),
            "429" => ("Over a limit on work at once or on time, named in the message; try again after Retry-After seconds", "limit"),
            _ => ("Error", "internal"),
        };
        m.insert(
            c.to_string(),
            json!({ "description": desc, "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/Error" },
                "example": { "error": { "code": code, "message": "dataset euaa/asylum-monthly not found" } } } } }),
        );
    }
    Value::Object(m)
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

pub fn document() -> Value {
    let dataset_example = json!({
        "name": "euaa/asylum-monthly", "org": "euaa", "slug": "asylum-monthly", "title": "Asylum applicants by citizenship, monthly (Eurostat)",
        "description": "", "source": "Eurostat migr_asyappctzm", "methodology": "", "licence": "Eurostat reuse with attribution",
        "update_frequency": "monthly", "tags": ["asylum"], "sharing": "public", "sensitive": false, "access": "owner",
        "versions": [{ "number": 1, "created_by": "editor@euaa.demo", "created_at": "2026-11-27T10:00:00Z", "file_name": "migr_asyappctzm.csv",
            "file_sha256": "9f2c…", "format": "eurostat", "mode": "replace", "rows": 3026, "observations": 2913, "added": 2913,
            "changed": 0, "removed": 0, "warnings": [], "redacted_at": null }]
    });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Nansen API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Exchange of data between the EU asylum agency, IOM and their partners. Authenticate with `Authorization: Bearer TOKEN` (create one with `nansen token create EMAIL`). A dataset the caller may not see answers 404, exactly as one that does not exist."
        },
        "servers": [{ "url": "/" }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                    "code": { "type": "string" }, "message": { "type": "string" },
                    "details": { "type": "array", "items": { "type": "object", "properties": {
                        "row": { "type": "integer" }, "column": { "type": "string" }, "value": { "type": "string" }, "reason": { "type": "string" } } } } } } } },
                "Dataset": { "type": "object", "example": dataset_example },
                "ImportReport": { "type": "object", "example": { "dataset": "euaa/asylum-monthly", "version": 2, "format": "sdmx-csv", "rows": 3026,
                    "observations": 2913, "added": 12, "changed": 3, "removed": 0, "warnings": [], "dry_run": false } },
                "Upload": { "type": "object", "description": "A staged upload; status is validating, refused, ready, saving, landed or failed",
                    "example": { "id": "8a434ffd3d7f7d9e09bb129729e1fcdc", "dataset": "euaa/arrivals", "file_name": "arrivals.csv", "owner": "ana@euaa.europa.eu",
                        "status": "ready", "report": { "dataset": "euaa/arrivals", "version": null, "format": "csv", "rows": 3, "observations": 3, "added": 1, "changed": 1,
                        "removed": 0, "warnings": [], "dry_run": true, "dims": ["indicator", "period", "geo"],
                        "sample": [{ "kind": "changed", "key": ["asylum_applications", "2015-01", "DEU"], "old": 100, "new": 110 }] } } }
            }
        },
        "security": [{ "bearer": [] }, {}],
        "paths": {
            "/api/v1/health": { "get": { "summary": "Is the server up?", "operationId": "health", "security": [],
                "responses": { "200": { "description": "Up", "content": { "application/json": { "example": { "status": "ok", "version": "0.1.0" } } } } } } },
            "/api/v1/openapi.json": { "get": { "summary": "This document", "operationId": "openapi", "security": [],
                "responses": { "200": { "description": "The OpenAPI document" } } } },
            "/api/v1/datasets": { "get": { "summary": "Every dataset the caller may know of", "operationId": "listDatasets",
                "responses": merge(json!({ "200": { "description": "Datasets", "content": { "application/json": { "example": [dataset_example] } } } }), errors(&["401"])) } },
            "/api/v1/datasets/{org}/{slug}": { "get": { "summary": "A dataset's metadata and versions", "operationId": "getDataset", "parameters": dataset_params(),
                "responses": merge(json!({ "200": { "description": "The dataset", "content": { "application/json": { "example": dataset_example } } } }), errors(&["401", "404"])) } },
            "/api/v1/datasets/{org}/{slug}/versions": { "post": {
                "summary": "Import a file as a new version (all or nothing); creates the dataset on first import",
                "operationId": "importVersion",
                "parameters": merge_params(dataset_params(), import_params()),
                "requestBody": { "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" },
                    "example": "indicator,period,geo,origin,value,flags\nasylum_applications,2015-09,DEU,SYR,12345,\n" } } },
                "responses": merge(json!({
                    "201": { "description": "The new version", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ImportReport" } } } },
                    "200": { "description": "A dry run: what the import would add, change and remove" } }), errors(&["400", "401", "403", "404", "409", "422"])) } },
            "/api/v1/datasets/{org}/{slug}/uploads": { "post": {
                "summary": "Stage a file: validate it and show what it would add, change and remove, saving nothing until confirmed",
                "operationId": "stageUpload",
                "parameters": merge_params(dataset_params(), import_params()),
                "requestBody": { "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" },
                    "example": "indicator,period,geo,origin,value,flags\nasylum_applications,2015-09,DEU,SYR,12345,\n" } } },
                "responses": merge(json!({
                    "201": { "description": "Valid: the staged upload with its counts and a sample of the changes (status ready)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Upload" } } } },
                    "422": { "description": "Refused: the staged upload with the problems by row and column (status refused); nothing is kept", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Upload" } } } } }),
                    errors(&["400", "401", "403", "404"])) } },
            "/api/v1/uploads/{id}": {
                "get": { "summary": "A staged upload (only to the person who staged it)", "operationId": "showUpload", "parameters": [upload_param()],
                    "responses": merge(json!({ "200": { "description": "The staged upload", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Upload" } } } } }), errors(&["401", "404"])) },
                "delete": { "summary": "Discard a staged upload and its file", "operationId": "discardUpload", "parameters": [upload_param()],
                    "responses": merge(json!({ "204": { "description": "Discarded" } }), errors(&["401", "404"])) } },
            "/api/v1/uploads/{id}/confirm": { "post": { "summary": "Save a staged, valid upload as a new version", "operationId": "confirmUpload", "parameters": [upload_param()],
                "responses": merge(json!({ "201": { "description": "The new version", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ImportReport" } } } } }), errors(&["401", "404", "409", "422"])) } },
            "/api/v1/datasets/{org}/{slug}/versions/{number}/redact": { "post": { "summary": "Destroy one version's data (admins of the owner)", "operationId": "redactVersion",
                "parameters": merge_params(dataset_params(), json!([{ "name": "number", "in": "path", "required": true, "schema": { "type": "integer" }, "example": 2 }])),
                "responses": merge(json!({ "200": { "description": "The dataset after redaction" } }), errors(&["401", "403", "404", "409"])) } },
            "/api/v1/datasets/{org}/{slug}/observations": { "get": {
                "summary": "Query: filters, a period range and a group-by; dimensions not named are held at their total or summed",
                "operationId": "queryObservations",
                "parameters": merge_params(dataset_params(), json!([
                    { "name": "where", "in": "query", "description": "dim:v1,v2 (repeat, one dimension each; aliases accepted)", "schema": { "type": "array", "items": { "type": "string" } }, "style": "form", "explode": true, "example": ["origin:SY", "geo:Germany,FR"] },
                    { "name": "period", "in": "query", "schema": { "type": "string" }, "example": "2015..2015" },
                    { "name": "group_by", "in": "query", "schema": { "type": "string" }, "example": "geo,period" },
                    { "name": "measure", "in": "query", "schema": { "type": "string", "enum": ["sum", "count", "min", "max"] }, "example": "sum" },
                    { "name": "frequency", "in": "query", "description": "Group periods at a coarser frequency: flows are summed, stocks take the period's last value", "schema": { "type": "string", "enum": ["month", "quarter", "year"] }, "example": "year" },
                    { "name": "top", "in": "query", "description": "Only the N largest groups, then one OTHERS row", "schema": { "type": "integer", "minimum": 1 }, "example": 10 },
                    { "name": "rolling", "in": "query", "description": "Each value becomes the sum of its last N periods (needs period in group_by; no value where the window is incomplete)", "schema": { "type": "integer", "minimum": 1 }, "example": 12 },
                    { "name": "change", "in": "query", "description": "Adds the earlier value, the change and the change in per cent (needs period in group_by)", "schema": { "type": "string", "enum": ["previous", "year"] }, "example": "year" },
                    { "name": "derived", "in": "query", "description": "A derived indicator from the vocabulary (derived.tsv), with its formula", "schema": { "type": "string", "enum": ["recognition_rate", "rejection_rate", "share_of_total", "rate_per_100k"] }, "example": "recognition_rate" },
                    { "name": "per_capita", "in": "query", "description": "The population dataset for rate_per_100k, as ORG/SLUG", "schema": { "type": "string" }, "example": "euaa/population" },
                    { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "csv"] }, "example": "json" },
                    { "name": "version", "in": "query", "schema": { "type": "integer" } }
                ])),
                "responses": merge(json!({ "200": { "description": "One row per group", "content": {
                    "application/json": { "example": { "columns": ["geo"], "rows": [{ "geo": "DEU", "value": 476510, "flags": "", "incomplete": false }], "aggregates": {} } },
                    "text/csv": { "example": "geo,value\nDEU,476510\n" } } } }), errors(&["400", "401", "403", "404"])) } },
            "/api/v1/datasets/{org}/{slug}/flows": { "get": {
                "summary": "Flows from origin (through a transit or route dimension) to destination, as nodes and links for a Sankey diagram",
                "operationId": "flows",
                "parameters": merge_params(dataset_params(), json!([
                    { "name": "where", "in": "query", "schema": { "type": "array", "items": { "type": "string" } }, "style": "form", "explode": true, "example": ["applicant:ASY_APP"] },
                    { "name": "period", "in": "query", "schema": { "type": "string" }, "example": "2015..2015" },
                    { "name": "via", "in": "query", "description": "A transit or route dimension", "schema": { "type": "string" }, "example": "route" },
                    { "name": "version", "in": "query", "schema": { "type": "integer" } }
                ])),
                "responses": merge(json!({ "200": { "description": "Nodes and links", "content": { "application/json": { "example": {
                    "nodes": [{ "id": "origin:SYR", "label": "Syria", "column": 0 }, { "id": "geo:DEU", "label": "Germany", "column": 1 }],
                    "links": [{ "source": "origin:SYR", "target": "geo:DEU", "value": 158655 }] } } } } }), errors(&["400", "401", "403", "404"])) } },
            "/api/v1/compare": { "get": {
                "summary": "The same indicator for the same places and periods from several datasets side by side, with the differences",
                "operationId": "compareSources",
                "parameters": [
                    { "name": "dataset", "in": "query", "required": true, "description": "ORG/SLUG, two or more; the first is the reference", "schema": { "type": "array", "items": { "type": "string" } }, "style": "form", "explode": true, "example": ["euaa/asylum-applicants-monthly", "euaa/unhcr-asylum-applications"] },
                    { "name": "where", "in": "query", "description": "dim:v1,v2; each dataset keeps the filters on dimensions it has", "schema": { "type": "array", "items": { "type": "string" } }, "style": "form", "explode": true, "example": ["indicator:asylum_applications", "origin:SYR"] },
                    { "name": "period", "in": "query", "schema": { "type": "string" }, "example": "2010..2015" },
                    { "name": "group_by", "in": "query", "schema": { "type": "string" }, "example": "geo,period" },
                    { "name": "frequency", "in": "query", "schema": { "type": "string", "enum": ["month", "quarter", "year"] }, "example": "year" },
                    { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "csv"] }, "example": "csv" }
                ],
                "responses": merge(json!({ "200": { "description": "The first dataset's value, then each other's value, difference and difference in per cent", "content": {
                    "application/json": { "schema": { "type": "object" } },
                    "text/csv": { "example": "geo,period,value,euaa/unhcr-asylum-applications,difference euaa/unhcr-asylum-applications,difference_pct euaa/unhcr-asylum-applications\nDEU,2015,476510,441900,-34610,-7.263226\n" } } } }), errors(&["400", "401", "403", "404"])) } },
            "/api/v1/datasets/{org}/{slug}/export": { "get": { "summary": "Download a version in an export format", "operationId": "exportDataset",
                "parameters": merge_params(dataset_params(), json!([
                    { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["csv", "hxl", "sdmx-csv", "json", "xlsx", "parquet"] }, "example": "csv" },
                    { "name": "version", "in": "query", "schema": { "type": "integer" } }
                ])),
                "responses": merge(json!({ "200": { "description": "The file, in the format asked for", "content": {
                    "application/json": { "schema": { "type": "array" } },
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } },
                    "application/vnd.apache.parquet": { "schema": { "type": "string", "format": "binary" } },
                    "text/csv": { "example": "indicator,period,geo,origin,value,flags\nasylum_applications,2015-09,DEU,SYR,12345,\n" } } } }), errors(&["400", "401", "403", "404"])) } },
            "/api/v1/datasets/{org}/{slug}/set-aside": { "get": { "summary": "The rows an import set aside (set_aside=true), as they came, with the reason (editors and admins of the owner)", "operationId": "setAsideRows",
                "parameters": merge_params(dataset_params(), json!([
                    { "name": "version", "in": "query", "description": "A version number; the latest without it", "schema": { "type": "integer" } }
                ])),
                "responses": merge(json!({ "200": { "description": "The rows, CSV: row, reason, then the file's columns", "content": {
                    "text/csv": { "example": "row,reason,reported_date,number_dead\n1833,reported_date: no period,,2\n" } } } }), errors(&["400", "401", "403", "404"])) } },
            "/api/v1/datasets/{org}/{slug}/sharing": { "post": { "summary": "Change who sees a dataset (admins of the owner)", "operationId": "shareDataset",
                "parameters": dataset_params(),
                "requestBody": { "required": true, "content": { "application/json": { "example": { "sharing": "partners:iom,bamf", "sensitive": true, "threshold": 5 } } } },
                "responses": merge(json!({ "200": { "description": "The dataset" } }), errors(&["400", "401", "403", "404"])) } },
            "/api/v1/datasets/{org}/{slug}/metadata": { "post": { "summary": "Change what a dataset says about itself (editors and admins of the owner); fields left out stay", "operationId": "describeDataset",
                "parameters": dataset_params(),
                "requestBody": { "required": true, "content": { "application/json": { "example": { "description": "Monthly asylum applicants by citizenship", "methodology": "Counts rounded to 5", "licence": "CC BY 4.0", "update_frequency": "monthly", "tags": ["asylum"] } } } },
                "responses": merge(json!({ "200": { "description": "The dataset" } }), errors(&["400", "401", "403", "404"])) } },
            "/api/v1/datasets/{org}/{slug}/access-requests": { "post": { "summary": "Ask for the data of a listed dataset", "operationId": "requestAccess",
                "parameters": dataset_params(),
                "requestBody": { "required": true, "content": { "application/json": { "example": { "reason": "Contingency planning for reception capacity in 2016" } } } },
                "responses": merge(json!({ "201": { "description": "The request, pending", "content": { "application/json": { "example": { "id": 3, "status": "pending" } } } } }), errors(&["400", "401", "404", "409"])) } },
            "/api/v1/access-requests": { "get": { "summary": "Access requests for datasets and documents alike that the caller made or may decide", "operationId": "listAccessRequests",
                "responses": merge(json!({ "200": { "description": "Requests, oldest first; `kind` is dataset or document, `subject` its name, `owner` the organisation that decides", "content": { "application/json": { "example": [{ "id": 3, "kind": "dataset", "subject": "euaa/unhcr-applications", "dataset": "euaa/unhcr-applications", "owner": "euaa", "org": "bamf", "user": "officer@bamf.demo", "reason": "Planning", "status": "pending", "created_at": "2026-11-27T10:00:00Z", "decided_by": null }, { "id": 4, "kind": "document", "subject": "Reception conditions", "document": 12, "owner": "euaa", "org": "iom", "user": "officer@iom.int", "reason": "We monitor reception in Sicily", "status": "pending", "created_at": "2026-11-27T10:00:00Z", "decided_by": null }] } } } }), errors(&["401"])) } },
            "/api/v1/access-requests/{id}/decision": { "post": { "summary": "Approve or refuse a request, for a dataset or a document (admins of the owner)", "operationId": "decideAccessRequest",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" }, "example": 3 }],
                "requestBody": { "required": true, "content": { "application/json": { "example": { "approve": true, "note": "Granted for 2016 planning" } } } },
                "responses": merge(json!({ "200": { "description": "Decided" } }), errors(&["401", "404", "409"])) } },
            "/api/v1/access-requests/{id}/revoke": { "post": { "summary": "Take back an approved request: the organisation reads the dataset or document no more (admins of the owner)", "operationId": "revokeAccessRequest",
                "parameters": [id_param()],
                "requestBody": { "required": false, "content": { "application/json": { "example": { "note": "The project ended" } } } },
                "responses": merge(json!({ "200": { "description": "Revoked" } }), errors(&["401", "404", "409"])) } },
            "/api/v1/audit": { "get": { "summary": "The audit log (the operator: all; an organisation's admins: their datasets)", "operationId": "auditLog",
                "responses": merge(json!({ "200": { "description": "Entries, oldest first", "content": { "application/json": { "example": [{ "seq": 1, "at": "2026-11-27T10:00:00Z", "actor": "operator", "action": "org.add", "target": "euaa", "detail": { "name": "EU Asylum Agency" }, "hash": "5d1e…" }] } } } }), errors(&["401", "403"])) } },
            "/api/v1/audit/verify": { "get": { "summary": "Is the audit chain unbroken, untruncated and not rewritten?", "operationId": "verifyAudit", "security": [],
                "responses": { "200": { "description": "The result", "content": { "application/json": { "example": { "intact": true, "entries": 42, "head": "5d1e…" } } } } } } },
            "/api/v1/tokens": {
                "get": { "summary": "The caller's API tokens (never their values)", "operationId": "listTokens",
                    "responses": merge(json!({ "200": { "description": "Tokens", "content": { "application/json": { "example": [{ "id": 1, "name": "laptop", "created_at": "2026-11-27T10:00:00Z", "last_used_at": null, "revoked_at": null }] } } } }), errors(&["401"])) },
                "post": { "summary": "A new token for the caller, shown once", "operationId": "createToken",
                    "requestBody": { "required": true, "content": { "application/json": { "example": { "name": "laptop" } } } },
                    "responses": merge(json!({ "201": { "description": "The token", "content": { "application/json": { "example": { "token": "nansen_4f…" } } } } }), errors(&["401"])) } },
            "/api/v1/tokens/{id}/revoke": { "post": { "summary": "Revoke one of the caller's tokens", "operationId": "revokeToken",
                "parameters": [id_param()],
                "responses": merge(json!({ "200": { "description": "Revoked" } }), errors(&["401", "404"])) } }
        }
    });
    for more in [early_warning_paths(), document_paths()] {
        if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), more) {
            paths.extend(more);
        }
    }
    // Any other failure (a malformed parameter or body, a limit) is the same JSON error.
    let default = json!({ "description": "An error, in words that name the parameter, field or limit; a 429 carries Retry-After",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    for ops in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for op in ops.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                responses
                    .entry("default")
                    .or_insert_with(|| default.clone());
            }
        }
    }
    doc
}

/// Documents, their versions and access requests, and the one search over documents and datasets.
fn document_paths() -> Value {
    let document = json!({ "id": 12, "org": "euaa", "title": "Reception conditions at Mediterranean arrival points", "type": "report",
        "countries": ["ITA"], "themes": ["reception"], "date": "2025-06", "language": "en", "summary": "", "sharing": "partners", "access": "text",
        "created_by": "editor@euaa.demo", "created_at": "2026-11-27T10:00:00Z",
        "versions": [{ "number": 1, "file_name": "reception.pdf", "format": "pdf", "size": 29891, "file_sha256": "51c0…", "pages": 3, "no_text": null,
            "created_by": "editor@euaa.demo", "created_at": "2026-11-27T10:00:00Z" }] });
    let version = json!({ "name": "version", "in": "query", "description": "A version number; the latest without it", "schema": { "type": "integer" } });
    let file_body = json!({ "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } });
    json!({
        "/api/v1/documents": {
            "get": { "summary": "The documents the caller may know of, newest first", "operationId": "listDocuments",
                "responses": { "200": { "description": "Documents", "content": { "application/json": { "example": [document.clone()] } } } } },
            "post": { "summary": "Add a document: the file is the body (PDF, DOCX, ODT, HTML, Markdown or text, up to 100 MB); its text is read at once. A hostile or malformed file is refused with the reason; a file without text is kept and marked",
                "operationId": "addDocument",
                "parameters": [
                    { "name": "org", "in": "query", "required": true, "schema": { "type": "string" }, "example": "euaa" },
                    { "name": "file_name", "in": "query", "required": true, "schema": { "type": "string" }, "example": "reception.pdf" },
                    { "name": "title", "in": "query", "description": "Without it, the file's own title or its name", "schema": { "type": "string" } },
                    { "name": "type", "in": "query", "schema": { "type": "string", "enum": ["report", "methodology", "coi", "minutes", "training", "agreement", "guidance", "other"] } },
                    { "name": "countries", "in": "query", "description": "ISO 3166 alpha-3, comma-separated", "schema": { "type": "string" }, "example": "ITA,GRC" },
                    { "name": "themes", "in": "query", "description": "Comma-separated", "schema": { "type": "string" } },
                    { "name": "date", "in": "query", "description": "YYYY, YYYY-MM or YYYY-MM-DD", "schema": { "type": "string" } },
                    { "name": "language", "in": "query", "description": "ISO 639-1; read from the text without it", "schema": { "type": "string" } },
                    { "name": "summary", "in": "query", "schema": { "type": "string" } },
                    { "name": "share", "in": "query", "description": "private, listed, public or partners:SLUG[,SLUG] (admins)", "schema": { "type": "string" } }],
                "requestBody": file_body.clone(),
                "responses": merge(json!({ "201": { "description": "The document", "content": { "application/json": { "example": document.clone() } } } }), errors(&["400", "401", "403", "404"])) } },
        "/api/v1/documents/{id}": { "get": { "summary": "A document's metadata and versions", "operationId": "document", "parameters": [id_param()],
            "responses": merge(json!({ "200": { "description": "The document", "content": { "application/json": { "example": document } } } }), errors(&["404"])) } },
        "/api/v1/documents/{id}/versions": { "post": { "summary": "A new version of the document's file; versions never change", "operationId": "addDocumentVersion",
            "parameters": [id_param(), { "name": "file_name", "in": "query", "required": true, "schema": { "type": "string" }, "example": "reception-v2.pdf" }],
            "requestBody": file_body,
            "responses": merge(json!({ "201": { "description": "The version" } }), errors(&["400", "403", "404"])) } },
        "/api/v1/documents/{id}/file": { "get": { "summary": "Download a version's file", "operationId": "documentFile", "parameters": [id_param(), version.clone()],
            "responses": merge(json!({ "200": { "description": "The file, as uploaded" } }), errors(&["403", "404"])) } },
        "/api/v1/documents/{id}/text": { "get": { "summary": "The text read out of a version, page by page", "operationId": "documentText", "parameters": [id_param(), version],
            "responses": merge(json!({ "200": { "description": "Pages", "content": { "application/json": { "example": { "version": 1, "pages": ["Reception conditions…", "…", "The Lampedusa hotspot needs…"], "no_text": null } } } } }), errors(&["403", "404"])) } },
        "/api/v1/documents/{id}/metadata": { "post": { "summary": "Change what is said about a document (editors and admins of its organisation); fields left out stay", "operationId": "describeDocument", "parameters": [id_param()],
            "requestBody": { "required": true, "content": { "application/json": { "example": { "title": "Reception conditions at arrival points, 2025", "type": "report", "countries": ["ITA", "GRC"], "themes": ["reception"], "date": "2025-06", "language": "en", "summary": "Monitoring visits in June." } } } },
            "responses": merge(json!({ "200": { "description": "The document" } }), errors(&["400", "403", "404"])) } },
        "/api/v1/documents/{id}/sharing": { "post": { "summary": "Change who sees the document (admins of its organisation)", "operationId": "shareDocument", "parameters": [id_param()],
            "requestBody": { "required": true, "content": { "application/json": { "example": { "sharing": "partners:iom" } } } },
            "responses": merge(json!({ "200": { "description": "The document" } }), errors(&["400", "403", "404"])) } },
        "/api/v1/documents/{id}/access-requests": { "post": { "summary": "Ask for the text of a listed document", "operationId": "requestDocumentAccess", "parameters": [id_param()],
            "requestBody": { "required": true, "content": { "application/json": { "example": { "reason": "We monitor reception in Sicily" } } } },
            "responses": merge(json!({ "201": { "description": "Pending", "content": { "application/json": { "example": { "id": 3, "status": "pending" } } } } }), errors(&["400", "401", "404", "409"])) } },
        "/api/v1/search": { "get": {
            "summary": "One search over documents and datasets, as the caller may see them: ranked hits with highlighted snippets, and facet counts. Words may have typos; \"quoted phrases\" match in order; -word excludes. Answers only once this node's index holds every change committed before the search began",
            "operationId": "search",
            "parameters": [
                { "name": "q", "in": "query", "description": "Empty for everything the caller may see", "schema": { "type": "string" }, "example": "Lampedusa reception" },
                { "name": "type", "in": "query", "description": "report, methodology, coi, minutes, training, agreement, guidance, other or dataset", "schema": { "type": "string" } },
                { "name": "org", "in": "query", "schema": { "type": "string" } },
                { "name": "country", "in": "query", "schema": { "type": "string" }, "example": "ITA" },
                { "name": "year", "in": "query", "schema": { "type": "string" } },
                { "name": "language", "in": "query", "schema": { "type": "string" } },
                { "name": "kind", "in": "query", "schema": { "type": "string", "enum": ["document", "dataset"] } },
                { "name": "sort", "in": "query", "schema": { "type": "string", "enum": ["relevance", "newest"] } },
                { "name": "offset", "in": "query", "schema": { "type": "integer" } },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 200 } }],
            "responses": merge(json!({ "200": { "description": "Results", "content": { "application/json": { "example": {
                "total": 1,
                "hits": [{ "kind": "document", "id": "12", "title": "Reception conditions at Mediterranean arrival points", "snippet": "The Lampedusa hotspot needs a second medical team", "highlights": [[4, 13]],
                    "type": "report", "org": "euaa", "countries": ["ITA"], "language": "en", "date": "2025-06-01", "score": 2.1 }],
                "facets": { "type": [{ "value": "report", "count": 1 }], "org": [{ "value": "euaa", "count": 1 }], "country": [{ "value": "ITA", "count": 1 }],
                    "year": [{ "value": "2025", "count": 1 }], "language": [{ "value": "en", "count": 1 }] } } } } } }), errors(&["400"])) } },
        "/api/v1/search/reindex": { "post": { "summary": "Rebuild this node's search index from the database (platform operators)", "operationId": "reindex",
            "responses": merge(json!({ "200": { "description": "Rebuilt", "content": { "application/json": { "example": { "entries": 1234 } } } } }), errors(&["404"])) } }
    })
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" }, "example": 1 })
}

/// Forecasts, backtests, watches, alerts, webhooks and plans.
fn early_warning_paths() -> Value {
    let series = json!([
        { "name": "where", "in": "query", "description": "dim:v1,v2 (repeat)", "schema": { "type": "array", "items": { "type": "string" } }, "style": "form", "explode": true, "example": ["citizen:SYR"] },
        { "name": "period", "in": "query", "description": "The history to use", "schema": { "type": "string" }, "example": "2008-01..2015-04" },
        { "name": "frequency", "in": "query", "schema": { "type": "string", "enum": ["month", "quarter", "year"] } },
        { "name": "horizon", "in": "query", "required": true, "description": "Periods ahead", "schema": { "type": "integer", "minimum": 1 }, "example": 3 }
    ]);
    let alert_example = json!({ "id": 7, "watch_id": 1, "watch": "Syrian applications", "org": "euaa", "dataset": "euaa/asylum-monthly", "series": "DEU",
        "period": "2015-08", "rule": "farrington", "status": "new", "assignee": null, "version": 3, "created_at": "2026-11-27T10:00:00Z", "updated_at": "2026-11-27T10:00:00Z",
        "detail": { "key": ["DEU"], "observed": 36505.0, "expected": 18120.4, "upper": 22733.0, "statistic": 3.98, "params": {}, "history": [["2015-07", 37531.0]],
            "why": "Farrington flexible: observed 36505, expected 18120, alarm above 22733" }, "may_change": true });
    let watch_body = json!({ "org": "euaa", "name": "Syrian applications", "dataset": "euaa/asylum-monthly", "wheres": ["citizen=SYR"], "series_by": ["geo"],
        "rules": [{ "name": "farrington" }, { "name": "c2", "params": { "threshold": 3.5 } }, { "name": "cusum" }], "horizon": 3, "lookback": 3, "level": 80, "partners": ["iom"] });
    let plan_body = json!({ "org": "euaa", "title": "Arrivals by sea to Italy", "scenario": "Summer crossings exceed reception",
        "triggers": [
            { "kind": "forecast", "watch": 2, "periods": 2, "bound": "hi", "above": { "dataset": "euaa/reception", "wheres": ["geo=ITA"] } },
            { "kind": "alerts", "watch": 1, "rule": "farrington", "series": 3 }],
        "actions": [{ "what": "Open the overflow centre", "owner": "ops@euaa.europa.eu", "done": false }] });
    json!({
        "/api/v1/datasets/{org}/{slug}/forecast": { "get": {
            "summary": "Forecast each series with intervals calibrated on the model's own out-of-sample errors", "operationId": "forecast",
            "parameters": merge_params(merge_params(dataset_params(), series.clone()), json!([
                { "name": "series_by", "in": "query", "description": "Dimensions naming each series, comma-separated", "schema": { "type": "string" }, "example": "geo" },
                { "name": "level", "in": "query", "schema": { "type": "number" }, "example": 80 },
                { "name": "model", "in": "query", "schema": { "type": "string", "enum": ["auto", "naive", "snaive", "ets", "theta", "pooled"] }, "example": "auto" },
                { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "csv"] } }])),
            "responses": merge(json!({ "200": { "description": "One row per series and period", "content": {
                "application/json": { "example": { "series_by": ["geo"], "level": 80, "rows": [{ "series": ["DEU"], "period": "2015-05", "model": "auto", "mean": 25370.2, "lo": 21108.9, "hi": 30050.7 }] } },
                "text/csv": { "example": "geo,period,model,mean,lo,hi\nDEU,2015-05,auto,25370.2,21108.9,30050.7\n" } } } }), errors(&["400", "401", "403", "404"])) } },
        "/api/v1/datasets/{org}/{slug}/backtest": { "get": {
            "summary": "Rolling-origin backtest: MASE, sMAPE, 80% coverage and MSIS per series and model", "operationId": "backtest",
            "parameters": merge_params(merge_params(dataset_params(), series), json!([
                { "name": "series_by", "in": "query", "required": true, "schema": { "type": "string" }, "example": "geo" },
                { "name": "windows", "in": "query", "required": true, "schema": { "type": "integer", "minimum": 1 }, "example": 24 },
                { "name": "model", "in": "query", "schema": { "type": "string", "enum": ["auto", "all", "naive", "snaive", "ets", "theta", "pooled"] }, "example": "all" },
                { "name": "details", "in": "query", "description": "Include every forecast made", "schema": { "type": "boolean" } },
                { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "csv"] } }])),
            "responses": merge(json!({ "200": { "description": "Scores", "content": {
                "application/json": { "schema": { "type": "object" } },
                "text/csv": { "example": "geo,model,mase,smape,coverage80,msis,forecasts\nDEU,auto,0.91,12.4,0.81,5.2,72\n" } } } }), errors(&["400", "401", "403", "404"])) } },
        "/api/v1/watches": {
            "get": { "summary": "The watches the caller may read, with their latest forecast", "operationId": "listWatches",
                "responses": merge(json!({ "200": { "description": "Watches" } }), errors(&["401"])) },
            "post": { "summary": "Watch a series (editors and admins of the watching organisation, who must read the data); checked at once and on every new version", "operationId": "createWatch",
                "requestBody": { "required": true, "content": { "application/json": { "example": watch_body } } },
                "responses": merge(json!({ "201": { "description": "The watch, checked" } }), errors(&["400", "401", "403", "404"])) } },
        "/api/v1/watches/{id}": { "get": { "summary": "A watch: its series, rules, forecast and open alerts", "operationId": "getWatch", "parameters": [id_param()],
            "responses": merge(json!({ "200": { "description": "The watch" } }), errors(&["401", "404"])) } },
        "/api/v1/alerts": { "get": { "summary": "Alerts of every watch the caller may read, newest first", "operationId": "listAlerts",
            "parameters": [{ "name": "status", "in": "query", "schema": { "type": "string", "enum": ["new", "acknowledged", "resolved", "false_alarm"] } }],
            "responses": merge(json!({ "200": { "description": "Alerts", "content": { "application/json": { "example": [alert_example.clone()] } } } }), errors(&["401"])) } },
        "/api/v1/alerts/{id}": {
            "get": { "summary": "An alert, why it fired, and its comments", "operationId": "getAlert", "parameters": [id_param()],
                "responses": merge(json!({ "200": { "description": "The alert", "content": { "application/json": { "example": { "alert": alert_example, "comments": [] } } } } }), errors(&["401", "404"])) },
            "post": { "summary": "Move an alert to acknowledged, resolved or false_alarm, or assign it (null unassigns); audited", "operationId": "updateAlert", "parameters": [id_param()],
                "requestBody": { "required": true, "content": { "application/json": { "example": { "status": "acknowledged", "assignee": "officer@euaa.europa.eu" } } } },
                "responses": merge(json!({ "200": { "description": "The alert" } }), errors(&["400", "401", "403", "404"])) } },
        "/api/v1/alerts/{id}/comments": { "post": { "summary": "Comment on an alert; audited", "operationId": "commentAlert", "parameters": [id_param()],
            "requestBody": { "required": true, "content": { "application/json": { "example": { "body": "Confirmed by the Budapest office." } } } },
            "responses": merge(json!({ "201": { "description": "The comment" } }), errors(&["400", "401", "404"])) } },
        "/api/v1/webhooks": {
            "get": { "summary": "Webhook subscriptions of the organisations the caller administers, with their deliveries", "operationId": "listWebhooks",
                "responses": merge(json!({ "200": { "description": "Subscriptions" } }), errors(&["401"])) },
            "post": { "summary": "Subscribe an organisation to a watch's alerts or a dataset's new versions; the signing secret is shown once. Loopback and private targets are refused unless the operator allows them", "operationId": "subscribeWebhook",
                "requestBody": { "required": true, "content": { "application/json": { "example": { "org": "iom", "watch": 1, "url": "https://hooks.iom.int/nansen" } } } },
                "responses": merge(json!({ "201": { "description": "The subscription and its secret", "content": { "application/json": { "example": { "webhook": { "id": 1, "org": "iom", "watch": 1, "url": "https://hooks.iom.int/nansen" }, "secret": "5f0c…" } } } } }), errors(&["400", "401", "403", "404"])) } },
        "/api/v1/webhooks/{id}": { "delete": { "summary": "Remove a subscription", "operationId": "removeWebhook", "parameters": [id_param()],
            "responses": merge(json!({ "204": { "description": "Removed" } }), errors(&["401", "404"])) } },
        "/api/v1/plans": {
            "get": { "summary": "Contingency plans of the caller's organisations, each with whether it is triggered and why", "operationId": "listPlans",
                "responses": merge(json!({ "200": { "description": "Plans" } }), errors(&["401"])) },
            "post": { "summary": "Write a plan: triggers on watches' forecasts and alerts, and actions with owners", "operationId": "createPlan",
                "requestBody": { "required": true, "content": { "application/json": { "example": plan_body } } },
                "responses": merge(json!({ "201": { "description": "The plan, evaluated" } }), errors(&["400", "401", "403", "404"])) } },
        "/api/v1/plans/{id}": { "get": { "summary": "A plan, its triggers' state, and since when it is triggered", "operationId": "getPlan", "parameters": [id_param()],
            "responses": merge(json!({ "200": { "description": "The plan", "content": { "application/json": { "example": {
                "id": 1, "org": "euaa", "title": "Syrian arrivals", "triggered_since": "2026-11-27T10:05:00Z",
                "triggers": [{ "fired": true, "why": "open farrington alerts of Syrian applications on 3 series (trigger at 3): DEU, HUN, SWE" }] } } } } }), errors(&["401", "404"])) } },
        "/api/v1/plans/{id}/actions/{n}": { "post": { "summary": "Tick or untick action n (from 1) of a plan's checklist; audited", "operationId": "tickAction",
            "parameters": [id_param(), { "name": "n", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 }, "example": 1 }],
            "requestBody": { "required": true, "content": { "application/json": { "example": { "done": true } } } },
            "responses": merge(json!({ "200": { "description": "The plan" } }), errors(&["400", "401", "403", "404"])) } }
    })
}

fn merge_params(a: Value, b: Value) -> Value {
    let mut v = a.as_array().cloned().unwrap_or_default();
    v.extend(b.as_array().cloned().unwrap_or_default());
    Value::Array(v)
}

/// The query parameters of an import, staged or not.
fn import_params() -> Value {
    json!([

                    { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["auto", "csv", "hxl", "sdmx-csv", "eurostat", "unhcr", "dtm-json", "missing-migrants", "xlsx", "xls", "json", "parquet"] }, "example": "auto" },
                    { "name": "file_name", "in": "query", "schema": { "type": "string" }, "example": "migr_asyappctzm.csv" },
                    { "name": "append", "in": "query", "schema": { "type": "boolean" }, "example": false },
                    { "name": "dry_run", "in": "query", "schema": { "type": "boolean" }, "example": true },
                    { "name": "indicator", "in": "query", "schema": { "type": "string" }, "example": "asylum_applications" },
                    { "name": "sheet", "in": "query", "schema": { "type": "string" } },
                    { "name": "share", "in": "query", "schema": { "type": "string" }, "example": "partners:iom" },
                    { "name": "title", "in": "query", "schema": { "type": "string" } },
                    { "name": "sensitive", "in": "query", "schema": { "type": "boolean" } },
                    { "name": "set_aside", "in": "query", "description": "Keep the rows that fail out of the import instead of refusing the file; the version records how many and why", "schema": { "type": "boolean" } },
                    { "name": "mapping", "in": "query", "description": "A mapping file (TOML) for files that do not carry their own meaning", "schema": { "type": "string" } }
    ])
}

fn upload_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" }, "example": "8a434ffd3d7f7d9e09bb129729e1fcdc" })
}
