//! The contract suite against the reference server, against deliberately deviant servers, and
//! the canonical responses pinned as snapshots.

mod broken;
mod deviant;
mod deviants;
mod documented;
mod hunted;
mod hunts;
mod reference;
mod snapshots;

use reference_server::store::Store;

/// The contract's view of the reference server with its built-in users, at `base_url`.
pub(crate) use contract_cli::builtin_target as target;

/// The reference server on an ephemeral loopback port with a temporary database, stopped when
/// dropped.
pub(crate) struct ReferenceServer(contract_cli::Reference);

impl ReferenceServer {
    pub(crate) async fn start() -> Self {
        Self(contract_cli::Reference::start().await.unwrap())
    }

    pub(crate) fn base_url(&self) -> &str {
        self.0.server().base_url()
    }

    pub(crate) fn store(&self) -> &Store {
        self.0.server().store()
    }
}

/// A record as the read model has it, with `id` and `purchase_order`, made by no one.
pub(crate) fn record(id: i64, purchase_order: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "Id": id, "UniqueId": "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90", "CoworkerId": 1,
        "BusinessId": 1, "TimePassId": 1, "TimePassName": null, "TimePassCurrencyCode": null,
        "Notes": null, "PurchaseOrder": purchase_order, "Used": null, "CheckedIn": null,
        "UsedDate": null, "RemainingUses": null, "TotalUses": null, "Free": null, "Price": null,
        "CreateMultiple": 1, "ExpireDate": null, "Invoiced": null, "InvoiceDate": null,
        "IsFromTariff": null, "IsPayAsYouGo": null, "TariffTimePassUniqueId": null,
        "CoworkerProductUniqueId": null, "CoworkerContractUniqueId": null,
        "CreatedOn": "2025-01-15T10:30:00Z", "UpdatedOn": "2025-01-15T10:30:00Z",
        "UpdatedBy": "admin@example.com", "IsNew": false, "SystemId": null
    })
}
