//! Forecasts, backtests, watches, alerts, webhooks and contingency plans.

use super::datasets::{parse_query, Asked};
use super::{admitted, blocking, Address, AppState, SignedIn, Who};
use crate::error::{bad_request, ApiError};
use axum::extract::{Path, Query, RawQuery};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nansen_app::{AlertChange, HookTarget, PlanSpec, SeriesRequest, Tabular, WatchSpec, Work};
use nansen_forecast::Model;
use serde::Deserialize;

fn series_request(asked: &Asked, need_series_by: bool) -> Result<SeriesRequest, ApiError> {
    let series_by: Vec<String> = asked
        .extra
        .get("series_by")
        .map(|s| {
            s.split(',')
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if need_series_by && series_by.is_empty() {
        return Err(bad_request(
            "series_by is required: the dimensions that name each series, such as geo",
        ));
    }
    let horizon = number(asked, "horizon")?
        .ok_or_else(|| bad_request("horizon is required: how many periods ahead"))?;
    Ok(SeriesRequest {
        query: asked.question.query.clone(),
        series_by,
        horizon,
    })
}

fn number(asked: &Asked, k: &str) -> Result<Option<usize>, ApiError> {
    asked
        .extra
        .get(k)
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| bad_request(format!("{k} {v:?} is not a whole number")))
        })
        .transpose()
}

fn csv_response(table: &Tabular) -> Response {
    (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        table.to_csv(),
    )
        .into_response()
}

/// `GET /api/v1/datasets/{org}/{slug}/forecast`
pub async fn forecast(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path((org, slug)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let asked = parse_query(
        raw.as_deref().unwrap_or(""),
        &["series_by", "horizon", "level", "model"],
    )?;
    let request = series_request(&asked, false)?;
    let level: f64 = asked
        .extra
        .get("level")
        .map(|v| {
            v.parse()
                .map_err(|_| bad_request(format!("level {v:?} is not a number")))
        })
        .transpose()?
        .unwrap_or(80.0);
    let model: Model = asked
        .extra
        .get("model")
        .map(String::as_str)
        .unwrap_or("auto")
        .parse()
        .map_err(|e: nansen_forecast::ForecastError| bad_request(e.to_string()))?;
    let app = state.0.clone();
    let series_by = request.series_by.clone();
    let permit = app.admit(&who, address, Work::Forecast)?;
    let (_, rows) = admitted(&state.0, permit, move |app, budget| {
        app.forecast(&who, &org, &slug, &request, level, model, budget)
    })
    .await?;
    if asked.format.as_deref() == Some("csv") {
        return Ok(csv_response(&Tabular::forecast(&series_by, &rows)));
    }
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| serde_json::json!({ "series": nansen_app::Panel::key(&r.series), "period": r.period, "model": r.model, "mean": r.mean, "lo": r.lo, "hi": r.hi }))
        .collect();
    Ok(
        Json(serde_json::json!({ "series_by": series_by, "level": level, "rows": rows }))
            .into_response(),
    )
}

/// `GET /api/v1/datasets/{org}/{slug}/backtest`
pub async fn backtest(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path((org, slug)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let asked = parse_query(
        raw.as_deref().unwrap_or(""),
        &["series_by", "horizon", "windows", "model", "details"],
    )?;
    let request = series_request(&asked, true)?;
    let windows = number(&asked, "windows")?
        .ok_or_else(|| bad_request("windows is required: how many origins to test"))?;
    let models: Vec<Model> = match asked
        .extra
        .get("model")
        .map(String::as_str)
        .unwrap_or("auto")
    {
        "all" => nansen_forecast::MODELS.to_vec(),
        m => vec![m
            .parse()
            .map_err(|e: nansen_forecast::ForecastError| bad_request(e.to_string()))?],
    };
    let details = asked.extra.get("details").is_some_and(|v| v == "true");
    let app = state.0.clone();
    let series_by = request.series_by.clone();
    let permit = app.admit(&who, address, Work::Forecast)?;
    let (_, report) = admitted(&state.0, permit, move |app, budget| {
        app.backtest(&who, &org, &slug, &request, windows, &models, budget)
    })
    .await?;
    if asked.format.as_deref() == Some("csv") {
        return Ok(csv_response(&Tabular::backtest_scores(&series_by, &report)));
    }
    let key = |s: &str| nansen_app::Panel::key(s);
    let scores: Vec<serde_json::Value> = report.scores.iter().map(|s| serde_json::json!({ "series": key(&s.series), "model": s.model, "mase": s.mase, "smape": s.smape, "coverage80": s.coverage80, "msis": s.msis, "forecasts": s.forecasts })).collect();
    let mut body = serde_json::json!({ "series_by": series_by, "scores": scores, "overall": report.overall, "skipped": report.skipped.iter().map(|s| key(s)).collect::<Vec<_>>() });
    if details {
        body["details"] = serde_json::to_value(&report.details).unwrap_or_default();
    }
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
pub struct NewWatch {
    org: String,
    name: String,
    #[serde(flatten)]
    spec: WatchSpec,
    #[serde(default)]
    partners: Vec<String>,
}

pub async fn watches(
    state: AppState,
    SignedIn(who): SignedIn,
) -> Result<Json<Vec<nansen_app::WatchView>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.watches(&who)).await?))
}

pub async fn create_watch(
    state: AppState,
    SignedIn(who): SignedIn,
    Json(b): Json<NewWatch>,
) -> Result<(StatusCode, Json<nansen_app::WatchView>), ApiError> {
    let app = state.0.clone();
    Ok((
        StatusCode::CREATED,
        Json(blocking(move || app.create_watch(&who, &b.org, &b.name, b.spec, &b.partners)).await?),
    ))
}

pub async fn watch(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(id): Path<i64>,
) -> Result<Json<nansen_app::WatchView>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.watch(&who, id)).await?))
}

#[derive(Deserialize)]
pub struct AlertFilter {
    status: Option<String>,
}

pub async fn alerts(
    state: AppState,
    SignedIn(who): SignedIn,
    Query(f): Query<AlertFilter>,
) -> Result<Json<Vec<nansen_app::AlertView>>, ApiError> {
    let status = f
        .status
        .map(|s| s.parse::<nansen_app::AlertStatus>())
        .transpose()
        .map_err(bad_request)?;
    let app = state.0.clone();
    Ok(Json(blocking(move || app.alerts(&who, status)).await?))
}

pub async fn alert(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = state.0.clone();
    let (alert, comments) = blocking(move || app.alert(&who, id)).await?;
    let comments: Vec<_> = comments.into_iter().map(|c| serde_json::json!({ "id": c.id, "author": c.author, "body": c.body, "created_at": c.created_at })).collect();
    Ok(Json(
        serde_json::json!({ "alert": alert, "comments": comments }),
    ))
}

pub async fn update_alert(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(id): Path<i64>,
    Json(change): Json<AlertChange>,
) -> Result<Json<nansen_app::AlertView>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.update_alert(&who, id, &change)).await?,
    ))
}

#[derive(Deserialize)]
pub struct NewComment {
    body: String,
}

pub async fn comment(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(id): Path<i64>,
    Json(b): Json<NewComment>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let app = state.0.clone();
    let c = blocking(move || app.comment_alert(&who, id, &b.body)).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            serde_json::json!({ "id": c.id, "author": c.author, "body": c.body, "created_at": c.created_at }),
        ),
    ))
}

#[derive(Deserialize)]
pub struct NewWebhook {
    org: String,
    url: String,
    watch: Option<i64>,
    dataset: Option<String>,
}

pub async fn webhooks(
    state: AppState,
    SignedIn(who): SignedIn,
) -> Result<Json<Vec<nansen_app::WebhookView>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.webhooks(&who)).await?))
}

pub async fn subscribe(
    state: AppState,
    SignedIn(who): SignedIn,
    Json(b): Json<NewWebhook>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let target = match (b.watch, b.dataset) {
        (Some(w), None) => HookTarget::Watch(w),
        (None, Some(d)) => HookTarget::Dataset(d),
        _ => {
            return Err(bad_request(
                "give either watch (an id) or dataset (ORG/SLUG)",
            ))
        }
    };
    let app = state.0.clone();
    let (hook, secret) = blocking(move || app.subscribe(&who, &b.org, &target, &b.url)).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "webhook": hook, "secret": secret })),
    ))
}

pub async fn unsubscribe(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let app = state.0.clone();
    blocking(move || app.unsubscribe(&who, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct NewPlan {
    org: String,
    title: String,
    #[serde(default)]
    scenario: String,
    #[serde(flatten)]
    spec: PlanSpec,
}

pub async fn plans(
    state: AppState,
    SignedIn(who): SignedIn,
) -> Result<Json<Vec<nansen_app::PlanView>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.plans(&who)).await?))
}

pub async fn create_plan(
    state: AppState,
    SignedIn(who): SignedIn,
    Json(b): Json<NewPlan>,
) -> Result<(StatusCode, Json<nansen_app::PlanView>), ApiError> {
    let app = state.0.clone();
    Ok((
        StatusCode::CREATED,
        Json(blocking(move || app.create_plan(&who, &b.org, &b.title, &b.scenario, b.spec)).await?),
    ))
}

pub async fn plan(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(id): Path<i64>,
) -> Result<Json<nansen_app::PlanView>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.plan(&who, id)).await?))
}

#[derive(Deserialize)]
pub struct Done {
    done: bool,
}

pub async fn tick(
    state: AppState,
    SignedIn(who): SignedIn,
    Path((id, n)): Path<(i64, usize)>,
    Json(b): Json<Done>,
) -> Result<Json<nansen_app::PlanView>, ApiError> {
    if n == 0 {
        return Err(bad_request("actions are numbered from 1"));
    }
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.set_action_done(&who, id, n - 1, b.done)).await?,
    ))
}
