//! E-mail out through the SMTP server an operator names by URL: `smtps://user:pass@host`
//! (TLS), `smtp://host:587?tls=required` (STARTTLS) or `smtp://host:25` (plain, for a relay
//! on the same machine). Plain text only: a reminder is a few lines and a link.

pub mod testing;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP URL refused: {0}")]
    Url(String),
    #[error("{0:?} is not an e-mail address")]
    Address(String),
    #[error("the SMTP server did not take the message: {0}")]
    Send(String),
}

/// One message to send.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// An SMTP server to send through, and the address mail comes from.
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: only the sender is shown.
        write!(f, "Mailer(from {})", self.from)
    }
}

impl Mailer {
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Mailer, MailError> {
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(timeout))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|_| MailError::Address(from.to_string()))?;
        Ok(Mailer { transport, from })
    }

    /// Sends `mail` to each of its addresses in one message.
    pub fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.as_str())
            .header(ContentType::TEXT_PLAIN);
        for to in &mail.to {
            message = message.to(to
                .parse::<Mailbox>()
                .map_err(|_| MailError::Address(to.clone()))?);
        }
        let message = message
            .body(mail.body.clone())
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| MailError::Send(e.to_string()))
    }
}
