//! Early warning end to end through the application layer, on SQLite and on PostgreSQL:
//! a watch checked when a new version lands, the alerts it raises and their lifecycle,
//! signed webhooks delivered over real HTTP with retries, and a contingency plan triggered
//! by them. Other organisations try to read what they must not.

use nansen_app::{
    Action, AlertChange, AlertStatus, App, AppError, Caller, Capacity, HookTarget, ImportRequest,
    PlanSpec, Trigger, WatchSpec, WebhookPolicy,
};
use nansen_forecast::detect::Rule;
use nansen_model::DatasetName;
use nansen_model::{Role, Sharing};
use nansen_store::testing::{stores, TestStore};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn setup(t: &TestStore) -> App {
    let app = App::open(t.dir.path(), t.database_url.as_deref()).unwrap();
    let op = Caller::operator();
    for (slug, name) in [("euaa", "EUAA"), ("iom", "IOM"), ("bamf", "BAMF")] {
        app.add_org(&op, slug, name).unwrap();
    }
    for (email, org, role) in [
        ("ed@euaa.eu", "euaa", Role::Editor),
        ("adm@euaa.eu", "euaa", Role::Admin),
        ("v@euaa.eu", "euaa", Role::Viewer),
        ("adm@iom.int", "iom", Role::Admin),
        ("adm@bamf.de", "bamf", Role::Admin),
    ] {
        app.add_user(&op, email, org, role, "a long enough password")
            .unwrap();
    }
    app
}

fn import(app: &App, slug: &str, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.csv");
    std::fs::write(&path, text).unwrap();
    let req = ImportRequest {
        org: "euaa".into(),
        slug: slug.into(),
        file_name: "f.csv".into(),
        append: true,
        ..Default::default()
    };
    app.import(&app.act_as("ed@euaa.eu").unwrap(), &req, &path, &|_| {})
        .unwrap();
}

/// Monthly applications by Syrians in three countries, 2009-01 to `last` (a 0-based month
/// count from 2009-01): a steady season with a little deterministic noise, and a tripling
/// in every month from `surge` on.
fn applications(first: usize, last: usize, surge: usize) -> String {
    let mut out = String::from("indicator,period,geo,origin,value\n");
    for (geo, base) in [("DEU", 1000.0), ("SWE", 500.0), ("HUN", 300.0)] {
        for m in first..=last {
            let season = 1.0 + 0.2 * (2.0 * std::f64::consts::PI * (m % 12) as f64 / 12.0).sin();
            let noise = 1.0 + 0.03 * (((m * 7919 + base as usize) % 13) as f64 / 6.0 - 1.0);
            let surge = if m >= surge { 3.0 } else { 1.0 };
            let v = (base * season * noise * surge).round();
            out.push_str(&format!(
                "asylum_applications,{}-{:02},{geo},SYR,{v}\n",
                2009 + m / 12,
                m % 12 + 1
            ));
        }
    }
    out
}

fn watch_spec() -> WatchSpec {
    WatchSpec {
        dataset: "euaa/apps".into(),
        wheres: vec!["indicator=asylum_applications".into(), "origin=SYR".into()],
        frequency: None,
        series_by: vec!["geo".into()],
        rules: vec![
            Rule::parse("farrington").unwrap(),
            Rule::parse("c2").unwrap(),
        ],
        horizon: 2,
        lookback: 3,
        level: 80.0,
    }
}

/// A receiver of webhooks on a real socket: answers 500 to the first `fail` requests, then
/// 204, and keeps each request's headers and body.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

/// A request's headers (names in lower case) and body.
type Request = (Vec<(String, String)>, String);

fn receiver(fail: usize) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/nansen", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let keep = seen.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                let (k, v) = l.split_once(':').unwrap();
                headers.push((k.trim().to_lowercase(), v.trim().to_string()));
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map(|(_, v)| v.parse().unwrap())
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            keep.lock()
                .unwrap()
                .push((headers, String::from_utf8(body).unwrap()));
            let status = if n < fail {
                "500 Internal Server Error"
            } else {
                "204 No Content"
            };
            let _ = stream.write_all(
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    Receiver { url, seen }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

#[test]
fn a_surge_in_a_new_version_raises_alerts_triggers_the_plan_and_reaches_the_partner_signed() {
    for t in stores() {
        let app = setup(&t);
        let (ed, adm, viewer) = (
            app.act_as("ed@euaa.eu").unwrap(),
            app.act_as("adm@euaa.eu").unwrap(),
            app.act_as("v@euaa.eu").unwrap(),
        );
        let (iom, bamf) = (
            app.act_as("adm@iom.int").unwrap(),
            app.act_as("adm@bamf.de").unwrap(),
        );
        // 2009-01 to 2014-10: nothing unusual.
        import(&app, "apps", &applications(0, 69, 999));
        app.share(
            &adm,
            &DatasetName::new("euaa", "apps"),
            Sharing::Partners(vec!["iom".into()]),
            None,
            None,
        )
        .unwrap();

        // Refusals first, and they change nothing.
        assert!(
            matches!(
                app.create_watch(&viewer, "euaa", "Syrians", watch_spec(), &[]),
                Err(AppError::Forbidden(_))
            ),
            "{}: a viewer may not watch",
            t.name
        );
        assert!(
            matches!(
                app.create_watch(&bamf, "bamf", "Syrians", watch_spec(), &[]),
                Err(AppError::NotFound(_))
            ),
            "BAMF may not read the data"
        );
        let mut bad = watch_spec();
        bad.rules = vec![Rule {
            name: "farrington".into(),
            params: [("alpha".to_string(), 3.0)].into(),
        }];
        assert!(matches!(
            app.create_watch(&ed, "euaa", "Syrians", bad, &[]),
            Err(AppError::BadRequest(_))
        ));

        let w = app
            .create_watch(
                &ed,
                "euaa",
                "Syrian applications",
                watch_spec(),
                &["iom".into()],
            )
            .unwrap();
        assert_eq!(w.checked_version, 1, "checked at once");
        assert_eq!(
            w.open_alerts, 0,
            "{}: a steady season raises nothing",
            t.name
        );
        let outlook = w.outlook.expect("a forecast");
        assert_eq!(outlook.series.len(), 3);
        assert_eq!(outlook.series[0].forecast.len(), 2, "two months ahead");
        assert_eq!(outlook.series[0].forecast[0].period, "2014-11");

        // A plan: any Farrington alert in three or more destinations, or the upper 80% bound
        // of the German forecast above reception capacity held in a dataset.
        import(
            &app,
            "capacity",
            "indicator,period,geo,value\nreception_capacity,2014-10,DEU,900000\n",
        );
        let spec = PlanSpec {
            triggers: vec![
                Trigger::Alerts {
                    watch: w.id,
                    rule: Some("farrington".into()),
                    series: 3,
                },
                Trigger::Forecast {
                    watch: w.id,
                    series: vec!["DEU".into()],
                    periods: 2,
                    bound: "hi".into(),
                    above: Capacity::Dataset {
                        dataset: "euaa/capacity".into(),
                        wheres: vec!["geo=DEU".into()],
                    },
                },
            ],
            actions: vec![Action {
                what: "Open the overflow centre".into(),
                owner: "adm@euaa.eu".into(),
                done: false,
            }],
        };
        let plan = app
            .create_plan(
                &ed,
                "euaa",
                "Syrian arrivals",
                "A rise across the main destinations",
                spec,
            )
            .unwrap();
        assert_eq!(plan.triggered_since, None);
        assert!(
            !plan.triggers[0].fired && !plan.triggers[1].fired,
            "{:?}",
            plan.triggers
        );
        assert!(
            plan.triggers[1]
                .why
                .contains("is within capacity 900,000 (euaa/capacity, 2014-10)"),
            "{}",
            plan.triggers[1].why
        );
        assert!(matches!(
            app.plan(&bamf, plan.id),
            Err(AppError::NotFound(_))
        ));

        // Webhooks: a private target is refused unless the operator allows it.
        let hook = receiver(1);
        assert!(
            matches!(app.subscribe(&iom, "iom", &HookTarget::Watch(w.id), &hook.url), Err(AppError::BadRequest(m)) if m.contains("loopback or private"))
        );
        app.set_webhook_policy(WebhookPolicy {
            allow_private: true,
            backoff: Duration::ZERO,
            max_attempts: 3,
            timeout: Duration::from_secs(5),
        });
        assert!(
            matches!(
                app.subscribe(&bamf, "bamf", &HookTarget::Watch(w.id), &hook.url),
                Err(AppError::NotFound(_))
            ),
            "BAMF may not follow the watch"
        );
        assert!(
            matches!(
                app.subscribe(
                    &ed,
                    "euaa",
                    &HookTarget::Dataset("euaa/apps".into()),
                    &hook.url
                ),
                Err(AppError::Forbidden(_))
            ),
            "only admins subscribe"
        );
        let (_, secret) = app
            .subscribe(&iom, "iom", &HookTarget::Watch(w.id), &hook.url)
            .unwrap();
        let (_, dataset_secret) = app
            .subscribe(
                &adm,
                "euaa",
                &HookTarget::Dataset("euaa/apps".into()),
                &hook.url,
            )
            .unwrap();

        // 2014-11 and 2014-12 triple.
        import(&app, "apps", &applications(70, 71, 70));
        let round = app.run_early_warning().unwrap();
        assert_eq!(round.checks.len(), 1);
        let alerts = app.alerts(&ed, None).unwrap();
        let farrington: Vec<_> = alerts.iter().filter(|a| a.rule == "farrington").collect();
        let mut flagged: Vec<(String, String)> = farrington
            .iter()
            .map(|a| (a.series.clone(), a.period.clone()))
            .collect();
        flagged.sort();
        assert_eq!(
            flagged,
            [
                ("DEU", "2014-11"),
                ("DEU", "2014-12"),
                ("HUN", "2014-11"),
                ("HUN", "2014-12"),
                ("SWE", "2014-11"),
                ("SWE", "2014-12")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string())),
            "{}",
            t.name
        );
        let a = farrington[0];
        assert_eq!(a.status, AlertStatus::New);
        assert!(
            a.detail.observed > a.detail.upper && a.detail.upper > a.detail.expected,
            "{:?}",
            a.detail
        );
        assert!(
            a.detail.why.starts_with("Farrington flexible: observed"),
            "{}",
            a.detail.why
        );
        assert!(
            a.detail.history.len() >= 36,
            "the chart's history travels with the alert"
        );
        let second = app.run_early_warning().unwrap();
        assert_eq!(second.checks.len(), 0, "nothing new, nothing checked");
        assert_eq!(
            app.alerts(&ed, None).unwrap().len(),
            alerts.len(),
            "never raised twice"
        );

        // The plan is triggered, says why, and records since when.
        let plan = app.plan(&ed, plan.id).unwrap();
        assert!(
            plan.triggered_since.is_some() && plan.triggers[0].fired,
            "{:?}",
            plan.triggers
        );
        assert!(
            plan.reason
                .contains("open farrington alerts of Syrian applications on 3 series"),
            "{}",
            plan.reason
        );
        assert!(round.plans_changed.contains(&plan.id));

        // Webhooks: the receiver's first answer is a 500; that one is retried and gets through.
        assert_eq!(round.deliveries.retrying, 1, "{:?}", round.deliveries);
        assert_eq!(
            round.deliveries.delivered,
            alerts.len(),
            "every alert and the new version, less the one retried"
        );
        assert_eq!(second.deliveries.delivered, 1, "the next round retries it");
        let seen = hook.seen.lock().unwrap().clone();
        let alert_posts: Vec<_> = seen
            .iter()
            .filter(|(h, _)| header(h, "x-nansen-event") == "alert.raised")
            .collect();
        assert!(
            alert_posts.len() >= alerts.len(),
            "every alert reaches the partner"
        );
        for (h, body) in &seen {
            let ts: i64 = header(h, "x-nansen-timestamp").parse().unwrap();
            let key = if header(h, "x-nansen-event") == "version.created" {
                &dataset_secret
            } else {
                &secret
            };
            assert_eq!(
                header(h, "x-nansen-signature"),
                nansen_webhooks::signature(key, ts, body),
                "signed with the subscription's secret"
            );
        }
        assert!(seen
            .iter()
            .any(|(h, b)| header(h, "x-nansen-event") == "version.created"
                && b.contains("\"version\":2")));
        let hooks = app.webhooks(&iom).unwrap();
        assert!(
            hooks[0]
                .deliveries
                .iter()
                .all(|d| d.status == nansen_model::DeliveryStatus::Delivered),
            "{:?}",
            hooks[0].deliveries
        );

        // The lifecycle: acknowledge and assign, comment, resolve; all audited.
        let id = a.id;
        assert!(matches!(
            app.update_alert(
                &viewer,
                id,
                &AlertChange {
                    status: Some(AlertStatus::Resolved),
                    assignee: None
                }
            ),
            Err(AppError::Forbidden(_))
        ));
        assert!(
            matches!(
                app.update_alert(
                    &ed,
                    id,
                    &AlertChange {
                        status: None,
                        assignee: Some(Some("adm@iom.int".into()))
                    }
                ),
                Err(AppError::BadRequest(_))
            ),
            "assignees come from the watching organisation"
        );
        assert!("closed".parse::<AlertStatus>().is_err(), "no such status");
        let v = app
            .update_alert(
                &ed,
                id,
                &AlertChange {
                    status: Some(AlertStatus::Acknowledged),
                    assignee: Some(Some("adm@euaa.eu".into())),
                },
            )
            .unwrap();
        assert_eq!(
            (v.status.as_str(), v.assignee.as_deref()),
            ("acknowledged", Some("adm@euaa.eu"))
        );
        assert!(
            matches!(
                app.update_alert(
                    &ed,
                    id,
                    &AlertChange {
                        status: Some(AlertStatus::New),
                        assignee: None
                    }
                ),
                Err(AppError::BadRequest(_))
            ),
            "an alert never moves back to new"
        );
        app.comment_alert(&iom, id, "Our Budapest office confirms the rise.")
            .unwrap();
        app.update_alert(
            &adm,
            id,
            &AlertChange {
                status: Some(AlertStatus::FalseAlarm),
                assignee: None,
            },
        )
        .unwrap();
        let (v, comments) = app.alert(&viewer, id).unwrap();
        assert_eq!(v.status, AlertStatus::FalseAlarm);
        assert!(!v.may_change, "a viewer reads but does not change");
        assert!(
            comments[0].author.ends_with("adm@iom.int"),
            "{}",
            comments[0].author
        );
        let audit: Vec<_> = app
            .audit_log(&Caller::operator())
            .unwrap()
            .into_iter()
            .filter(|e| e.target == format!("alert:{id}"))
            .map(|e| e.action)
            .collect();
        assert_eq!(
            audit,
            [
                "alert.raise",
                "alert.update",
                "alert.comment",
                "alert.update"
            ]
        );

        // Others see nothing of it.
        assert!(app.alerts(&bamf, None).unwrap().is_empty());
        assert!(app.watches(&bamf).unwrap().is_empty());
        assert!(matches!(app.alert(&bamf, id), Err(AppError::NotFound(_))));
        assert!(matches!(
            app.comment_alert(&bamf, id, "hello"),
            Err(AppError::NotFound(_))
        ));
        assert!(
            !app.alerts(&iom, None).unwrap().is_empty(),
            "the partner reads them"
        );
        // Take the partner's access away: it stops seeing the watch's alerts at once.
        app.share(
            &adm,
            &DatasetName::new("euaa", "apps"),
            Sharing::Private,
            None,
            None,
        )
        .unwrap();
        assert!(app.alerts(&iom, None).unwrap().is_empty(), "{}", t.name);

        // The checklist.
        let plan = app.set_action_done(&ed, plan.id, 0, true).unwrap();
        assert!(plan.spec.actions[0].done);
        assert!(matches!(
            app.set_action_done(&viewer, plan.id, 0, false),
            Err(AppError::Forbidden(_))
        ));

        // Resolving Hungary's alerts leaves two destinations: the plan clears, audited.
        for a in app
            .alerts(&ed, Some(AlertStatus::New))
            .unwrap()
            .into_iter()
            .filter(|a| a.series == "HUN")
        {
            app.update_alert(
                &ed,
                a.id,
                &AlertChange {
                    status: Some(AlertStatus::Resolved),
                    assignee: None,
                },
            )
            .unwrap();
        }
        assert_eq!(
            app.run_early_warning().unwrap().plans_changed,
            [plan.id],
            "{}",
            t.name
        );
        let plan = app.plan(&ed, plan.id).unwrap();
        assert_eq!(plan.triggered_since, None);
        assert!(
            plan.triggers[0].why.contains("on 2 series"),
            "{}",
            plan.triggers[0].why
        );
        assert!(app
            .audit_log(&Caller::operator())
            .unwrap()
            .iter()
            .any(|e| e.action == "plan.cleared" && e.target == format!("plan:{}", plan.id)));
    }
}

#[test]
fn a_forecast_above_a_fixed_capacity_triggers_the_plan_and_idle_rounds_write_nothing() {
    for t in stores() {
        let app = setup(&t);
        let ed = app.act_as("ed@euaa.eu").unwrap();
        import(&app, "apps", &applications(0, 69, 999));
        let mut spec = watch_spec();
        spec.series_by = vec![];
        spec.wheres.push("geo=DEU".into());
        let w = app.create_watch(&ed, "euaa", "Germany", spec, &[]).unwrap();
        let hi = w.outlook.as_ref().unwrap().series[0].forecast[0].hi;
        let trigger = |cap: f64| Trigger::Forecast {
            watch: w.id,
            series: vec![],
            periods: 1,
            bound: "hi".into(),
            above: Capacity::Number(cap),
        };
        let plan = app
            .create_plan(
                &ed,
                "euaa",
                "Low",
                "",
                PlanSpec {
                    triggers: vec![trigger(hi - 1.0)],
                    actions: vec![],
                },
            )
            .unwrap();
        assert!(
            plan.triggered_since.is_some(),
            "{}: {:?}",
            t.name,
            plan.triggers
        );
        assert!(
            plan.reason
                .contains("upper 80% bound of Germany in 2014-11"),
            "{}",
            plan.reason
        );
        let high = app
            .create_plan(
                &ed,
                "euaa",
                "High",
                "",
                PlanSpec {
                    triggers: vec![trigger(hi + 1.0)],
                    actions: vec![],
                },
            )
            .unwrap();
        assert!(high.triggered_since.is_none());
        // Rounds with nothing new evaluate nothing and write nothing.
        let before = app.audit_log(&Caller::operator()).unwrap().len();
        for _ in 0..3 {
            assert!(app.run_early_warning().unwrap().plans_changed.is_empty());
        }
        assert_eq!(
            app.audit_log(&Caller::operator()).unwrap().len(),
            before,
            "{}",
            t.name
        );
        let actions: Vec<_> = app
            .audit_log(&Caller::operator())
            .unwrap()
            .into_iter()
            .filter(|e| e.action.starts_with("plan."))
            .map(|e| (e.action, e.target))
            .collect();
        assert!(actions.contains(&("plan.triggered".to_string(), format!("plan:{}", plan.id))));
        assert!(!actions
            .iter()
            .any(|(a, t)| a == "plan.triggered" && *t == format!("plan:{}", high.id)));
    }
}

#[test]
fn a_webhook_that_keeps_failing_is_marked_failed_after_its_attempts_and_audited() {
    for t in stores() {
        let app = setup(&t);
        let adm = app.act_as("adm@euaa.eu").unwrap();
        import(&app, "apps", &applications(0, 30, 999));
        app.set_webhook_policy(WebhookPolicy {
            allow_private: true,
            backoff: Duration::ZERO,
            max_attempts: 2,
            timeout: Duration::from_secs(5),
        });
        let hook = receiver(usize::MAX);
        app.subscribe(
            &adm,
            "euaa",
            &HookTarget::Dataset("euaa/apps".into()),
            &hook.url,
        )
        .unwrap();
        import(&app, "apps", &applications(31, 31, 999));
        assert_eq!(app.deliver_webhooks().unwrap().retrying, 1);
        assert_eq!(app.deliver_webhooks().unwrap().failed, 1);
        assert_eq!(
            app.deliver_webhooks().unwrap(),
            Default::default(),
            "{}: nothing left to send",
            t.name
        );
        let d = &app.webhooks(&adm).unwrap()[0].deliveries[0];
        assert_eq!((d.status.as_str(), d.attempts), ("failed", 2));
        assert!(d.last_error.contains("500"), "{}", d.last_error);
        assert!(app
            .audit_log(&Caller::operator())
            .unwrap()
            .iter()
            .any(|e| e.action == "webhook.failed"));
        assert_eq!(hook.seen.lock().unwrap().len(), 2);
    }
}
