use std::net::SocketAddr;

use store::Role;
use tokio::sync::oneshot;

use crate::{GraphqlClient, TestDb};

/// The API served in the test's process, over a real TCP port, on the test's database.
#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Serves `db`'s ledger on a free port of 127.0.0.1.
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with(db, false).await
    }

    /// Serves `db`'s ledger, readable without a token where the alliance publishes it.
    pub async fn start_public(db: &TestDb) -> Self {
        Self::start_with(db, true).await
    }

    async fn start_with(db: &TestDb, public_read: bool) -> Self {
        Self::start_configured(db, |state| state.public_read = public_read).await
    }

    /// Serves `db`'s ledger with the state as `configure` leaves it, e.g. with other limits.
    pub async fn start_configured(db: &TestDb, configure: impl FnOnce(&mut api::AppState)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local address");
        let (mut state, projector) = api::AppState::start(db.db.clone())
            .await
            .expect("build the read models");
        configure(&mut state);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            let served = api::serve_on(listener, state, shutdown).await;
            projector.stop().await;
            served.expect("serve the API");
        });
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// An anonymous client of this server.
    pub fn client(&self) -> GraphqlClient {
        GraphqlClient::new(format!("http://{}", self.addr))
    }

    /// Stops serving and waits for open requests to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestDb {
    /// Creates a token for a new actor with `role` and returns its secret.
    pub async fn token(&self, actor: &str, role: Role, organisation: Option<&str>) -> String {
        self.db
            .create_token(actor, role, organisation)
            .await
            .expect("create a token")
            .secret
    }
}
