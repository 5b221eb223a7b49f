use axum::Json;

pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

pub async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

/// What a person sees at the server's address until the web interface lands: where the API is.
pub async fn home() -> axum::response::Html<&'static str> {
    axum::response::Html(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Nansen</title></head><body>",
        "<main><h1>Nansen</h1><p>The data exchange of the EU asylum agency, IOM and their partners is running.</p>",
        "<ul><li><a href=\"/api/v1/datasets\">Public datasets</a> (JSON; send <code>Authorization: Bearer TOKEN</code> for yours)</li>",
        "<li><a href=\"/api/v1/openapi.json\">The API, described in OpenAPI</a></li>",
        "<li><a href=\"/api/v1/health\">Health</a></li></ul></main></body></html>"
    ))
}
