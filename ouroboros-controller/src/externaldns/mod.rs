//! The `external-dns` mode (spec §11): records as DNSEndpoint objects or annotated headless
//! Services, owned through labels, with a guard against mass deletion.

mod names;
mod plan;
mod records;
mod status;

pub use names::{object_name, NameLimit};
pub use plan::{decide_record_action, plan_records, ObservedRecord, RecordAction, RecordPlan};
pub use records::{
    build_records, ownership_selector, BuildError, DesiredRecord, OutputKind, RecordOptions,
    RecordTargets, INSTANCE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_ANNOTATION,
    SOURCE_VALUE,
};
pub use status::{StatusObservation, StatusTracker, StatusWarning};
