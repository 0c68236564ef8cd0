//! Figure 6: a filtered, ordered page of 25 on a large table against the same on a table a
//! hundred times smaller.
//!
//! Both tables are built through the store's own writer (group commit, durable), 100 records per
//! create, each create its own customer: so a customer's filter matches 100 records in either
//! table, and only the table's size differs. The page is what the list operation asks the store
//! for (its `ListParameters`), read the way the server reads (a blocking task, a pooled
//! connection); the median of several timed batches counts.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::ensure;
use futures_util::{StreamExt, stream};
use nexudus_types::CoworkerTimePassOrderField;
use reference_server::{
    api::ListParameters,
    store::{Fields, Store, stored_date_time},
};

use crate::{
    Size,
    table::{Row, Target},
};

const FIGURE: &str = "6. list scaling";
/// Records per create, and so per customer.
const PER_CUSTOMER: u32 = 100;

fn fields(customer: i64) -> Fields {
    let expire = chrono::DateTime::from_timestamp(1_767_225_600 + customer * 3600, 0)
        .expect("a date in range");
    Fields {
        coworker_id: customer,
        business_id: customer % 50 + 1,
        time_pass_id: customer % 7 + 1,
        notes: Some(format!("customer {customer}")),
        purchase_order: Some(format!("PO-{}", customer % 1000)),
        used: Some(customer % 2 == 0),
        free: Some(customer % 3 == 0),
        price: (customer % 5 != 0).then_some((customer % 200) as f64 + 0.5),
        expire_date: Some(stored_date_time(expire)),
        tariff_time_pass_unique_id: None,
        coworker_product_unique_id: None,
        coworker_contract_unique_id: None,
    }
}

/// Fills `store` with `records` records, 100 per customer, 256 creates in flight.
async fn fill(store: &Store, records: u64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let creates = records / u64::from(PER_CUSTOMER);
    let mut results = stream::iter(1..=creates as i64)
        .map(|customer| store.create(fields(customer), PER_CUSTOMER, "bench@example.com"))
        .buffer_unordered(256);
    while let Some(result) = results.next().await {
        result?;
    }
    ensure!(
        store.count()? == records,
        "the table holds what was created"
    );
    Ok(started.elapsed())
}

/// The median time of one `store.list` of `parameters`, over `batches` batches.
async fn time_page(
    store: &Arc<Store>,
    parameters: &ListParameters,
    batch: Duration,
    batches: usize,
) -> anyhow::Result<(Duration, usize)> {
    let mut times = Vec::with_capacity(batches);
    let mut records = 0;
    for _ in 0..batches {
        let started = Instant::now();
        let mut calls = 0u32;
        while started.elapsed() < batch {
            records = store.list(parameters.query()).await?.records.len();
            calls += 1;
        }
        times.push(started.elapsed() / calls);
    }
    times.sort();
    Ok((times[times.len() / 2], records))
}

/// Runs the figure and returns the rows.
pub fn run(size: &Size, root: &Path) -> anyhow::Result<Vec<Row>> {
    let scratch = root.join("target");
    std::fs::create_dir_all(&scratch)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let filtered = |customer| ListParameters {
        coworker_id: Some(customer),
        order_by: Some(CoworkerTimePassOrderField::ExpireDate),
        dir: Some(-1),
        size: Some(25),
        ..ListParameters::default()
    };
    let unfiltered = ListParameters {
        order_by: Some(CoworkerTimePassOrderField::ExpireDate),
        dir: Some(-1),
        size: Some(25),
        ..ListParameters::default()
    };
    let mut rows = Vec::new();
    let mut pages = Vec::new();
    for records in [size.list_records / 100, size.list_records] {
        let dir = tempfile::tempdir_in(&scratch)?;
        let store = Arc::new(Store::open(&dir.path().join("list.sqlite3"))?);
        let filled = runtime.block_on(fill(&store, records))?;
        // A customer in the middle of the table (customers are numbered from 1).
        let customer = (records / u64::from(PER_CUSTOMER)).div_ceil(2) as i64;
        let (page, found) = runtime.block_on(time_page(
            &store,
            &filtered(customer),
            size.batch,
            size.batches,
        ))?;
        ensure!(
            found == 25,
            "the filtered page holds {found} records, not 25"
        );
        let (whole, _) =
            runtime.block_on(time_page(&store, &unfiltered, size.batch, size.batches))?;
        rows.push(Row::reported(
            FIGURE,
            format!("{records} records (filled through the writer in {:.1} s)", filled.as_secs_f64()),
            format!(
                "filtered page {:.0} µs; unfiltered page {:.0} µs (its count walks an index of every record)",
                page.as_secs_f64() * 1e6,
                whole.as_secs_f64() * 1e6
            ),
        ));
        pages.push(page);
        drop(store);
    }
    rows.push(Row::ratio(
        FIGURE,
        format!(
            "a page of 25 by CoworkerId, ordered by ExpireDate descending: {} vs {} records",
            size.list_records,
            size.list_records / 100
        ),
        format!("{:.0} µs", pages[1].as_secs_f64() * 1e6),
        pages[1].as_secs_f64() / pages[0].as_secs_f64(),
        Target::AtMost(1.5),
    ));
    Ok(rows)
}
