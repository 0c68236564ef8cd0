//! Figure 10: signing in. Creates with an access token the token endpoint issued against creates
//! with a static token (same load, alternating phases), and the password checks the server
//! sustains: wrong passwords of a known user, and passwords of an unknown one, whose answers
//! must take as long (the check runs against a decoy hash), beside right ones, which also store
//! the new tokens.

use std::{path::Path, time::Duration};

use anyhow::ensure;
use bytes::Bytes;

use crate::{
    Size,
    load::{self, Load, Template},
    table::{Row, Target, per_second},
};

const FIGURE: &str = "10. sign-in";

fn form(pairs: &[(&str, &str)]) -> Bytes {
    Bytes::from(
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    )
}

fn grant(username: &str, password: &str) -> Template {
    Template {
        method: http::Method::POST,
        path: nexudus_client::TOKEN_PATH.to_owned(),
        token: None,
        body: Some((
            "application/x-www-form-urlencoded",
            form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ]),
        )),
    }
}

fn milliseconds(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

/// Runs the phases and returns the rows.
pub fn run(size: &Size, root: &Path) -> anyhow::Result<Vec<Row>> {
    let served = load::serve(root)?;
    let address = served.address;
    let base_url = format!("http://{address}");
    let admin = reference_server::users::BUILTIN_USERS
        .iter()
        .find(|user| user.full_admin)
        .expect("the built-in users have a full administrator");
    let load_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let issued = load_runtime.block_on(async {
        let client = nexudus_client::sign_in(&base_url, admin.email, admin.password).await?;
        let session = client.session().expect("a signed-in client has a session");
        anyhow::Ok(session.access_token().await?)
    })?;
    let body = Bytes::from(serde_json::to_vec(&crate::example("complete")?)?);
    let create = |token: &str| Template {
        method: http::Method::POST,
        path: "/api/billing/coworkertimepasses".to_owned(),
        token: Some(token.to_owned()),
        body: Some(("application/json", body.clone())),
    };
    let (with_static, with_issued) = (create(&served.token), create(&issued));
    load_runtime.block_on(load::run(
        address,
        size.connections,
        size.phase / 10,
        &with_static,
    ))?;
    let (mut static_load, mut issued_load) = (Load::default(), Load::default());
    for _ in 0..size.rounds {
        for (template, into) in [
            (&with_static, &mut static_load),
            (&with_issued, &mut issued_load),
        ] {
            let load = load_runtime.block_on(load::run(
                address,
                size.connections,
                size.phase,
                template,
            ))?;
            ensure!(
                load.count(200) == load.latencies.len() as u64,
                "expected only 200s, got {:?}",
                load.statuses
            );
            into.merge(load);
        }
    }

    // As many connections as a busy client pool: the server lets one check per core run at once
    // and queues the rest.
    let connections = 8;
    let wrong = grant(admin.email, "not-the-password");
    let unknown = grant("nobody@example.com", admin.password);
    let right = grant(admin.email, admin.password);
    let (mut wrong_load, mut unknown_load, mut right_load) =
        (Load::default(), Load::default(), Load::default());
    for _ in 0..size.rounds {
        for (template, into, status) in [
            (&wrong, &mut wrong_load, 400),
            (&unknown, &mut unknown_load, 400),
            (&right, &mut right_load, 200),
        ] {
            let load =
                load_runtime.block_on(load::run(address, connections, size.phase, template))?;
            ensure!(
                load.count(status) == load.latencies.len() as u64,
                "expected only {status}s, got {:?}",
                load.statuses
            );
            into.merge(load);
        }
    }
    drop(served);

    let median = |load: &Load| load.percentile(0.5);
    Ok(vec![
        Row::reported(
            FIGURE,
            format!(
                "creates with the static token, {} connections",
                size.connections
            ),
            per_second(static_load.rate()),
        ),
        Row::ratio(
            FIGURE,
            "creates with an issued token vs with the static token",
            per_second(issued_load.rate()),
            issued_load.rate() / static_load.rate(),
            Target::AtLeast(0.9),
        ),
        Row::reported(
            FIGURE,
            format!("password checks (wrong password), {connections} connections"),
            format!(
                "{} (p50 {})",
                per_second(wrong_load.rate()),
                milliseconds(median(&wrong_load))
            ),
        ),
        Row::reported(
            FIGURE,
            "unknown user (checked against the decoy hash)",
            format!(
                "{} (p50 {})",
                per_second(unknown_load.rate()),
                milliseconds(median(&unknown_load))
            ),
        ),
        Row::reported(
            FIGURE,
            "unknown user vs wrong password, median latency",
            format!(
                "{:.2}x",
                median(&unknown_load).as_secs_f64() / median(&wrong_load).as_secs_f64()
            ),
        ),
        Row::reported(
            FIGURE,
            "right password (check, then the tokens stored)",
            format!(
                "{} (p50 {})",
                per_second(right_load.rate()),
                milliseconds(median(&right_load))
            ),
        ),
    ])
}
