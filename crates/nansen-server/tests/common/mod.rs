//! What the server's tests share.

use nansen_app::App;
use std::sync::Arc;

/// Serves `app` over real HTTP on a free port of the loopback, in a thread of its own for
/// the rest of the test; the base URL.
pub fn serve(app: Arc<App>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(nansen_server::serve(app, "127.0.0.1:0", |addr| {
            tx.send(addr).unwrap()
        }))
        .unwrap();
    });
    format!("http://{}", rx.recv().unwrap())
}
