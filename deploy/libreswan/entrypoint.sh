#!/bin/sh
# The sidecar: pluto in Relay's network namespace (compose `network_mode: service:relay`), its control socket in
# the volume shared with Relay (/run/pluto), the policy groups in the volume Relay writes (/etc/ipsec.d/policies).
set -eu
mkdir -p /run/pluto /etc/ipsec.d/policies /var/lib/ipsec/nss
for group in clear clear-or-private private-or-clear private block; do
  [ -f "/etc/ipsec.d/policies/$group" ] || : > "/etc/ipsec.d/policies/$group"
done
[ -f /var/lib/ipsec/nss/cert9.db ] || certutil -N -d sql:/var/lib/ipsec/nss --empty-password
/usr/libexec/ipsec/pluto --nofork --config /etc/ipsec.conf --rundir /run/pluto --nssdir /var/lib/ipsec/nss &
pluto=$!
i=0
while [ ! -S /run/pluto/pluto.ctl ]; do i=$((i+1)); [ $i -gt 100 ] && { echo "pluto made no control socket" >&2; exit 1; }; sleep 0.1; done
# Relay runs as an unprivileged user: the socket is opened to the group it shares with the sidecar (RELAY_GID).
chgrp "${RELAY_GID:-990}" /run/pluto/pluto.ctl && chmod 0660 /run/pluto/pluto.ctl
ipsec addconn --config /etc/ipsec.conf --ctlsocket /run/pluto/pluto.ctl --autoall
ipsec whack --ctlsocket /run/pluto/pluto.ctl --listen
wait "$pluto"
