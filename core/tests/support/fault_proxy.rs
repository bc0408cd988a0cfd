//! A TCP proxy on a loopback port between the stores and a real Redis, whose faults a test switches
//! at any moment: delay every reply, drop every connection (FIN), black-hole (connections stay open,
//! nothing comes back: a peer gone without a FIN, or a half-open connection), reset in the middle of
//! a reply (RST after half of it). Existing connections meet the new fault on their next bytes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    None,
    Delay(Duration),
    Drop,
    BlackHole,
    ResetMidReply,
}

pub struct FaultProxy {
    pub port: u16,
    fault: Arc<Mutex<Fault>>,
}

impl FaultProxy {
    /// Forward 127.0.0.1:<port> to `upstream` (host:port).
    pub fn start(upstream: String) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let fault = Arc::new(Mutex::new(Fault::None));
        let shared = fault.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (fault, upstream) = (shared.clone(), upstream.clone());
                std::thread::spawn(move || serve(client, &upstream, fault));
            }
        });
        FaultProxy { port, fault }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }
}

fn current(fault: &Mutex<Fault>) -> Fault {
    *fault.lock().unwrap()
}

fn serve(client: TcpStream, upstream: &str, fault: Arc<Mutex<Fault>>) {
    if current(&fault) == Fault::Drop {
        return; // closed at once
    }
    let Ok(server) = TcpStream::connect(upstream) else { return };
    let (client_in, server_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let requests = {
        let fault = fault.clone();
        std::thread::spawn(move || pump(client_in, server_out, &fault, false))
    };
    pump(server, client, &fault, true);
    let _ = requests.join();
}

/// Copy `from` to `to` chunk by chunk, each under the fault of that moment; replies only are
/// delayed or cut.
fn pump(mut from: TcpStream, mut to: TcpStream, fault: &Mutex<Fault>, replies: bool) {
    from.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                if current(fault) == Fault::Drop {
                    break;
                }
                continue;
            }
            Err(_) => break,
        };
        match current(fault) {
            Fault::None => {}
            Fault::Delay(by) => {
                if replies {
                    std::thread::sleep(by);
                }
            }
            Fault::Drop => break,
            // swallowed: the peer keeps waiting on an open socket
            Fault::BlackHole => continue,
            Fault::ResetMidReply => {
                if replies {
                    let _ = to.write_all(&buffer[..n.div_ceil(2)]);
                    let _ = socket2::SockRef::from(&to).set_linger(Some(Duration::ZERO));
                    break;
                }
            }
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
