/// svcprobe's help discussion, kept out of the executable so it stays argument parsing and wiring. The text is
/// what `--help` prints (the help tests check it).
public enum SvcProbeHelp {
    public static let svcProbe = """
        Each target gets a non-blocking TCP connect (many at once, --concurrency),
        timed with the monotonic clock (connect, first byte, greeting; printed in
        ms with microsecond resolution), and one outcome:
          greeting     a MySQL/MariaDB greeting (HandshakeV10/V9): flavour, real
                       version (MariaDB's 5.5.5- prefix removed), connection
                       id, capabilities incl. MariaDB's extended ones,
                       collation, status, auth plugin, TLS offered
          error        an ERR packet instead of a greeting: 1130 host not
                       allowed, 1129 host blocked, 1040 too many connections
          banner       another protocol spoke first (SSH, SMTP, ...)
          silent       connected, but nothing was said within --timeout
          closed/reset the server hung up before a complete greeting
          refused      RST to the SYN (nothing listens; no endpoints)
          timeout      no answer to the SYN
          unreachable  ICMP unreachable, no route, no ARP/NDP answer
          unresolved   the name did not resolve

        WHAT THE PROBE SENDS. MariaDB and MySQL count a connection that ends
        before the login exchange completes (connect, read the greeting, close:
        what nmap, curl and TCP health checks do) as a handshake error for the
        client's address; after max_connect_errors of them the address gets ERR
        1129 until FLUSH HOSTS. A failed login is not counted. So after a 4.1+
        greeting svcprobe sends one HandshakeResponse41 for user 'svcprobe'
        (--user) with an EMPTY password and the server's auth plugin name,
        answers auth-switch requests with an empty reply (at most 4), reads the
        verdict (normally ERR 1045 access denied), sends COM_QUIT if it was let
        in, and waits for the server to close. Nothing else: no password, no
        query. The server's error log shows "Access denied for user 'svcprobe'"
        (with log_warnings >= 2); a passwordless account without privileges
        (CREATE USER svcprobe@'%') makes the logins succeed quietly.
        --close-after-greeting does the impolite thing instead. Non-MySQL
        servers only get connect, read, close.

        A STALLED SERVER (frozen, overloaded) still has its kernel accept the
        connection; closing it at the timeout leaves it in the accept queue,
        and the server, once it resumes, counts it as a handshake error. So a
        probe without a greeting within --timeout is reported silent at once,
        but keeps its connection for --linger (default 10s) and, if the
        greeting comes, runs the polite login: a second line, event "late".
        --linger 0 closes at the timeout.

        TLS (--tls). After a greeting that offers CLIENT_SSL, svcprobe sends the
        SSLRequest, completes a TLS handshake on the same socket (SNI when the
        target is a name or --tls-name is given), reports protocol version,
        cipher and the certificate (subject, issuer, DNS and IP SANs, validity,
        days left, SHA-256), then runs the same polite login inside TLS and
        ends with COM_QUIT (if let in), close_notify and close. The certificate
        is NOT verified by default: it is shown as presented ("unverified").
        --tls-verify checks chain, expiry and name against the system store
        (or --tls-ca FILE) and reports the reason when it fails; the probe goes
        on either way (it never sends a secret). A server without TLS set up
        gives tls=not-offered and the login runs in clear. A failed handshake
        is a handshake error to the server, as for any client; so is
        --close-after-greeting with --tls (it closes after the handshake).

        TARGETS: HOST:PORT, [IPv6]:PORT, HOST (port 3306), HOST:LOW-HIGH (a
        port range); names are resolved with getaddrinfo (the first address is
        probed). Results print in argument order.

        OUTPUT: one line per target (-v adds details). --json prints one JSON
        object per line (schema: docs/json.md), first a "start" object (tool,
        version, schema_version), then objects with the fields event, time,
        host (--node-name), target, address, port, outcome,
        up, connect_us, first_byte_us, greeting_us, tls_us, login_us, total_us,
        protocol, flavour, version, server_version, connection_id,
        capabilities, capability_names, mariadb_capabilities, collation_id,
        collation, server_status, server_status_names, auth_plugin,
        tls_offered, error_code,
        error_name, error_sqlstate, error_message, banner, login (none,
        accepted, denied, incomplete), login_error_code, login_error_name,
        login_error_message, login_detail, detail; with --tls also tls
        (established, not-offered, failed), tls_version, tls_cipher, tls_error,
        cert_subject, cert_issuer, cert_dns_names, cert_ip_addresses,
        cert_not_before, cert_not_after (UTC, ISO 8601), cert_days_left,
        cert_sha256, tls_verification (unverified, verified, failed),
        tls_verified and tls_verify_error (with --tls-verify). Subject and
        issuer read as `openssl x509 -subject` prints them. Absent fields do
        not apply; lingering and late are true on those reports. --watch adds
        events initial, down, up, changed (another outcome or ERR code while
        down, such as 1129 or 1040; another version, or connection ids going
        back, while up; with the server's text), late, and a summary per
        target; an outage open at the start or the end counts. It keeps at
        most one connection per target in flight: a round that finds the last
        probe still open skips the target (skipped_rounds). -r prints event
        "handshake" objects as each connection ends, then a summary per file.

        -r CAPTURES: a connection established and closed before the client's
        login packet is marked counts-toward-max_connect_errors (what nc -z and
        TCP health checks do: the cause of an ERR 1129). A SYN without an
        answer is timeout. At most 32768 connections are tracked at once; the
        oldest is then reported as it stands (evicted=N in the summary).

        EXIT STATUS:
          0   ran (and every expectation held)
          1   could not run (unreadable capture or CA file, ...), or a
              capture could not be read to its end (what came before is
              printed and its summary says partial)
          2   interrupted
          64  usage error
        With --expect-up, --expect-version, --expect-tls (each implies
        --expect-up) or --tls-verify:
          10  a target did not answer (refused, timeout, unreachable, reset,
              closed, silent, unresolved)
          11  a target answered with an ERR packet instead of a greeting
          12  a greeting's version did not match --expect-version
          13  --expect-tls: a greeting did not offer TLS (tls not offered)
          14  --expect-tls or --tls-verify: the TLS handshake failed, or
              (--tls-verify) the certificate did not verify
        When several apply, the lowest code wins. In --watch mode, 10 means
        the service was down at some point.

        Examples:
          svcprobe 198.51.100.20:3306
          svcprobe db.example:3306 '[2001:db8::20]:3306' 203.0.113.5:22 --json
          svcprobe 198.51.100.20 --expect-up --expect-version '^10\\.11\\.'
          svcprobe 198.51.100.20 --tls -v
          svcprobe db.example --expect-tls --tls-verify --tls-ca ca.pem
          svcprobe 198.51.100.20:3306 --watch --interval 200ms --duration 60s
          svcprobe -r captures/mariadb-greeting.pcap
        """
}
