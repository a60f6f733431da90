//! HTTP-level tests: each starts the real server binary on a free port with a fresh
//! database and talks HTTP to it, as any client would. One module per feature.

mod helpers;

mod accounts;
mod admin;
mod alerts;
mod bad_input;
mod balancer;
mod cache;
mod covers;
mod defects;
mod disk;
mod errors;
mod health;
mod hostile;
mod hostile_images;
mod hostile_queue;
mod hostile_streams;
mod hostile_writes;
mod http_layer;
mod node_pages;
mod nodes;
mod ownership;
mod pages;
mod passkeys;
mod replication;
mod scale_out;
mod several_hosts;
mod snapshot;
mod soak;
mod stories;
mod tasks;
mod vitals;
