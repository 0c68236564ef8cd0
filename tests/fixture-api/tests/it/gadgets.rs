//! The fixture server's gadgets: records the server numbers, listed in pages and filtered by
//! label, kept in memory behind one lock, so that every write is whole and every read sees whole
//! records. What the contract runner's stateful checks and writes at once need of a resource,
//! and nothing more.

use std::{collections::BTreeMap, sync::Mutex, time::Duration};

use fixture_api::{
    server::{
        DeleteGadgetResponse, GadgetsCreateResponse, GadgetsListResponse, GetGadgetResponse,
        PutGadgetResponse,
    },
    types::{Gadget, GadgetDraft, GadgetPage, ProblemReport},
};

/// Gadgets by id, and the last id given.
#[derive(Default)]
pub(crate) struct Gadgets {
    stored: Mutex<(BTreeMap<i64, Gadget>, i64)>,
}

fn absent(id: i64) -> ProblemReport {
    ProblemReport {
        problems: vec![format!("no gadget {id}")],
    }
}

fn gadget(id: i64, draft: GadgetDraft) -> Gadget {
    Gadget {
        id,
        label: draft
            .label
            .parse()
            .expect("a draft's label is a gadget's label"),
        count: draft.count,
    }
}

impl Gadgets {
    pub(crate) fn list(
        &self,
        page: Option<i32>,
        size: Option<i32>,
        label: Option<String>,
        tag: Option<String>,
    ) -> GadgetsListResponse {
        let (page, size) = (i64::from(page.unwrap_or(1)), i64::from(size.unwrap_or(10)));
        let stored = self.stored.lock().unwrap();
        let matching: Vec<&Gadget> = stored
            .0
            .values()
            .filter(|gadget| label.as_ref().is_none_or(|label| *gadget.label == *label))
            .collect();
        let total = matching.len() as i64;
        let before = (page - 1).saturating_mul(size);
        let records: Vec<Gadget> = matching
            .into_iter()
            .skip(usize::try_from(before).unwrap_or(usize::MAX))
            .take(size as usize)
            .cloned()
            .collect();
        let on_page = records.len() as i64;
        let pages = (total + size - 1) / size;
        GadgetsListResponse::Ok(GadgetPage {
            records,
            page: page as i32,
            size: size as i32,
            total,
            pages,
            first: if on_page == 0 { 0 } else { before + 1 },
            last: if on_page == 0 { 0 } else { before + on_page },
            has_next: page < pages,
            has_previous: page > 1,
            tag: tag.unwrap_or_else(|| "none".to_owned()),
        })
    }

    pub(crate) fn create(&self, draft: GadgetDraft) -> GadgetsCreateResponse {
        let mut stored = self.stored.lock().unwrap();
        stored.1 += 1;
        let made = gadget(stored.1, draft);
        stored.0.insert(made.id, made.clone());
        GadgetsCreateResponse::Created(made)
    }

    pub(crate) fn get(&self, id: i64) -> GetGadgetResponse {
        match self.stored.lock().unwrap().0.get(&id) {
            Some(gadget) => GetGadgetResponse::Ok(gadget.clone()),
            None => GetGadgetResponse::NotFound(absent(id)),
        }
    }

    pub(crate) fn put(&self, id: i64, draft: GadgetDraft) -> PutGadgetResponse {
        match self.stored.lock().unwrap().0.get_mut(&id) {
            Some(stored) => {
                *stored = gadget(id, draft);
                PutGadgetResponse::Ok(stored.clone())
            }
            None => PutGadgetResponse::NotFound(absent(id)),
        }
    }

    /// Deletes gadget `id`; when `racing`, it looks for the gadget, waits, then removes it and
    /// answers as it found it before the wait: every one of several deletes at once succeeds.
    pub(crate) async fn delete(&self, id: i64, racing: bool) -> DeleteGadgetResponse {
        if racing {
            let found = self.stored.lock().unwrap().0.contains_key(&id);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.stored.lock().unwrap().0.remove(&id);
            return match found {
                true => DeleteGadgetResponse::NoContent,
                false => DeleteGadgetResponse::NotFound(absent(id)),
            };
        }
        match self.stored.lock().unwrap().0.remove(&id) {
            Some(_) => DeleteGadgetResponse::NoContent,
            None => DeleteGadgetResponse::NotFound(absent(id)),
        }
    }
}
