# The compose test's mail store, Python 3.11's smtpd (no STARTTLS, so Relay's delivery to it is cleartext and says
# why). It prints "received: FROM -> TO subject=SUBJECT" per message; the test reads that from the container's log.
import asyncore
import email
import smtpd
import warnings

warnings.simplefilter("ignore", DeprecationWarning)


class Receiver(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        subject = email.message_from_bytes(data).get("Subject", "")
        print(f"received: {mailfrom} -> {','.join(rcpttos)} subject={subject}", flush=True)
        return None


Receiver(("0.0.0.0", 25), None, decode_data=False)
print("receiver: listening on port 25", flush=True)
asyncore.loop()
