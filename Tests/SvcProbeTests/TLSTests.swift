import Foundation
import TestSupport
import Testing
@testable import SvcProbeKit

/// A throw-away CA and a server certificate made with the `openssl` command line, and what
/// `openssl x509` says about the server certificate: the oracle every TLS test compares with.
final class TestCertificates {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var certificateFile: String { directory + "/server.pem" }
    var keyFile: String { directory + "/server.key" }

    /// `subject` and the SANs go into the server certificate as given (`-subj` syntax, `subjectAltName`
    /// syntax); the CA is "O=vipscope lab, CN=vipscope test CA".
    init(subject: String, subjectAltName: String, days: Int = 30) throws {
        directory = NSTemporaryDirectory() + "st-certs-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            try ChildProcess.mustRun([
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/ca.key", "-out",
                caFile, "-days", "\(days + 10)", "-subj", "/O=vipscope lab/CN=vipscope test CA",
            ])
            try ChildProcess.mustRun([
                "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out",
                directory + "/server.csr", "-subj", subject, "-utf8",
            ])
            try "subjectAltName=\(subjectAltName)\n"
                .write(toFile: directory + "/ext.cnf", atomically: true, encoding: .utf8)
            try ChildProcess.mustRun([
                "openssl", "x509", "-req", "-in", directory + "/server.csr", "-CA", caFile, "-CAkey",
                directory + "/ca.key", "-CAcreateserial", "-out", certificateFile, "-days", "\(days)", "-extfile",
                directory + "/ext.cnf",
            ])
            // mariadbd runs as mysql and must read its key.
            try ChildProcess.mustRun(["chmod", "755", directory])
            try ChildProcess.mustRun(["chmod", "644", keyFile, certificateFile, caFile])
        } catch {
            remove()
            throw error
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// `openssl x509 -in cert -noout -subject -issuer -ext subjectAltName -enddate -fingerprint -sha256`.
    struct Oracle {
        var subject = ""
        var issuer = ""
        var dnsNames: [String] = []
        /// As openssl prints them (IPv6 in full upper-case form): compare through `normalizedIP`.
        var ipAddresses: [String] = []
        var notAfter: Date?
        var sha256 = ""
    }

    func oracle() throws -> Oracle {
        let output = try ChildProcess.run([
            "openssl", "x509", "-in", certificateFile, "-noout", "-subject", "-issuer", "-ext", "subjectAltName",
            "-enddate", "-fingerprint", "-sha256",
        ])
        try #require(output.status == 0, "openssl x509: \(output.standardError)")
        var oracle = Oracle()
        let lines = output.standardOutput.split(separator: "\n").map(String.init)
        for (index, line) in lines.enumerated() {
            if line.hasPrefix("subject=") { oracle.subject = String(line.dropFirst("subject=".count)) }
            if line.hasPrefix("issuer=") { oracle.issuer = String(line.dropFirst("issuer=".count)) }
            if line.hasPrefix("sha256 Fingerprint=") {
                oracle.sha256 = String(line.dropFirst("sha256 Fingerprint=".count))
            }
            if line.hasPrefix("notAfter=") {
                oracle.notAfter = Self.date(openSSL: String(line.dropFirst("notAfter=".count)))
            }
            if line.hasPrefix("X509v3 Subject Alternative Name"), index + 1 < lines.count {
                for entry in lines[index + 1].trimmingCharacters(in: .whitespaces).components(separatedBy: ", ") {
                    if entry.hasPrefix("DNS:") { oracle.dnsNames.append(String(entry.dropFirst(4))) }
                    if entry.hasPrefix("IP Address:") { oracle.ipAddresses.append(String(entry.dropFirst(11))) }
                }
            }
        }
        return oracle
    }

    /// An address in one canonical text form (inet_pton then inet_ntop), so `FD99:7:0:0:0:0:0:1` and
    /// `fd99:7::1` compare equal.
    static func normalizedIP(_ text: String) -> String? {
        var raw = [UInt8](repeating: 0, count: 16)
        let family: Int32
        if inet_pton(AF_INET, text, &raw) == 1 {
            family = AF_INET
        } else if inet_pton(AF_INET6, text, &raw) == 1 {
            family = AF_INET6
        } else {
            return nil
        }
        var buffer = [CChar](repeating: 0, count: 64)
        guard inet_ntop(family, raw, &buffer, 64) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// OpenSSL's printed time, `Dec  7 20:19:20 2026 GMT` (one space or two before the day).
    static func date(openSSL text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy zzz"
        return formatter.date(from: text.split(separator: " ").joined(separator: " "))
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

@Suite("svcprobe --tls: certificate decoding against the openssl command line")
struct CertificateDecodeTests {
    @Test func summaryMatchesOpenSSLCommandLine() throws {
        try #require(ChildProcess.which("openssl") != nil, "install openssl (scripts/setup)")
        // A comma, UTF-8 and several RDNs: the one-line form must be openssl's own, escapes included.
        let certificates = try TestCertificates(
            subject: "/C=DE/O=Lab, Süd/OU=db team/CN=db.st.test",
            subjectAltName: "DNS:db.st.test,DNS:*.st.test,IP:203.0.113.1,IP:fd99:7::1", days: 12)
        defer { certificates.remove() }
        let oracle = try certificates.oracle()
        let summary = try CertificateSummary.read(pemFile: certificates.certificateFile)
        #expect(summary.subject == oracle.subject)
        #expect(summary.issuer == oracle.issuer)
        #expect(summary.dnsNames == oracle.dnsNames)
        #expect(summary.ipAddresses == oracle.ipAddresses.map { TestCertificates.normalizedIP($0) ?? "?" })
        #expect(summary.ipAddresses.contains("fd99:7::1"), "IPv6 SANs in RFC 5952 form")
        #expect(summary.sha256 == oracle.sha256)
        let notAfter = try #require(oracle.notAfter)
        #expect(summary.notAfter.map(CertificateSummary.utc) == TestCertificates.iso8601(notAfter))
        // Whole seconds on both sides: made this very second with -days 12, exactly 12 days are left.
        let now = Int64(Date().timeIntervalSince1970)
        let expectedDays = (Int64(notAfter.timeIntervalSince1970) - now) / 86_400
        #expect([11, 12].contains(expectedDays), "made with -days 12")
        #expect(summary.daysRemaining(now: now) == expectedDays)
        #expect(summary.daysRemaining(now: Int64(notAfter.timeIntervalSince1970) + 3600) == -1)
    }

    @Test func openSSLErrorsBecomeOneSentence() {
        let problem = Prober.checkTLS({
            var options = TLSOptions()
            options.enabled = true
            options.verify = true
            options.caFile = "/nonexistent/ca.pem"
            return options
        }())
        let start = "cannot load CA certificates from /nonexistent/ca.pem: "
        #expect(problem?.hasPrefix(start) == true, "\(problem ?? "")")
        #expect(problem?.contains("No such file or directory") == true)
        #expect(problem?.contains("\n") == false)
        #expect(OpenSSLError.readable("error:0A00010B:SSL routines::wrong version number")
            == "wrong version number (SSL routines, 0A00010B)")
    }

    @Test func tlsVerdicts() {
        var plain = ProbeUnitTests.result(.greeting, version: "10.11.19-MariaDB")
        plain.tls = TLSReport(status: .notOffered)
        var secure = plain
        secure.tls = TLSReport(status: .established)
        var failed = plain
        failed.tls = TLSReport(status: .failed)
        var unverifiable = secure
        unverifiable.tls?.verification = .failed("self-signed certificate")
        #expect(ProbeVerdict.status([secure], expectUp: false, expectVersion: nil, expectTLS: true) == 0)
        #expect(ProbeVerdict.status([secure, plain], expectUp: false, expectVersion: nil, expectTLS: true) == 13)
        #expect(ProbeVerdict.status([failed, plain], expectUp: false, expectVersion: nil, expectTLS: true) == 13)
        #expect(ProbeVerdict.status([failed], expectUp: false, expectVersion: nil, expectTLS: true) == 14)
        #expect(ProbeVerdict.status([unverifiable], expectUp: false, expectVersion: nil, verifyTLS: true) == 14)
        #expect(ProbeVerdict.status([unverifiable], expectUp: false, expectVersion: nil, expectTLS: true) == 0)
        #expect(ProbeVerdict.status([plain], expectUp: false, expectVersion: nil) == 0, "no expectation, no code")
        #expect(ProbeVerdict.status([secure, ProbeUnitTests.result(.refused)], expectUp: false, expectVersion: nil,
            expectTLS: true) == 10, "--expect-tls implies --expect-up; the lowest code wins")
    }

    /// The reason a --tls-verify check failed is on the default text line, not only with -v or --json; a
    /// failed handshake says why too. Peer-controlled names in it are escaped.
    @Test func verifyFailureReasonIsOnTheTextLine() {
        var unverifiable = ProbeUnitTests.result(.greeting, version: "10.11.19-MariaDB")
        unverifiable.tls = TLSReport(status: .established)
        unverifiable.tls?.verification = .failed("hostname mismatch")
        #expect(ProbeRendering.text(unverifiable).contains(" verify=failed(hostname mismatch)"))
        var failed = unverifiable
        failed.tls = TLSReport(status: .failed)
        failed.tls?.error = "TLS handshake failed: wrong version number\r\nforged"
        let line = ProbeRendering.text(failed)
        #expect(line.contains("tls=failed (TLS handshake failed: wrong version number\\r\\nforged)"), "\(line)")
    }
}

@Suite("svcprobe --tls against a real MariaDB in network namespaces (root)", .serialized)
struct TLSLabTests {
    static let maxConnectErrors = 3

    @Test("TLS version, cipher and certificate match openssl and the server; polite under TLS")
    func tlsHandshakeAndCertificate() throws {
        try MariaDBLabTests.prerequisites()
        try #require(ChildProcess.which("openssl") != nil, "install openssl (scripts/setup)")
        let certificates = try TestCertificates(
            subject: "/O=vipscope lab/CN=db.st.test", subjectAltName: "DNS:db.st.test,IP:203.0.113.1,IP:fd99:7::1")
        defer { certificates.remove() }
        let lab = try MariaDBLab(maxConnectErrors: Self.maxConnectErrors, prefix: "st", serverArguments: [
            "--ssl-cert=\(certificates.certificateFile)", "--ssl-key=\(certificates.keyFile)",
            "--ssl-ca=\(certificates.caFile)",
        ])
        defer { lab.tearDown() }
        try #require(try lab.sql("SELECT @@have_ssl").trimmingCharacters(in: .whitespacesAndNewlines) == "YES",
            "mariadbd did not enable TLS")
        let oracle = try certificates.oracle()
        let acceptsBefore = try Self.sslAccepts(lab)

        let probed = try lab.probe(["203.0.113.1:3306", "--tls", "--expect-tls"])
        #expect(probed.status == 0, "\(probed.stderr)")
        let line = try #require(probed.lines.first)
        #expect(line["outcome"] as? String == "greeting")
        #expect(line["tls"] as? String == "established", "\(line["tls_error"] ?? "")")
        let version = try #require(line["tls_version"] as? String)
        let cipher = try #require(line["tls_cipher"] as? String)
        #expect(!version.isEmpty && !cipher.isEmpty)
        #expect(line["cert_subject"] as? String == oracle.subject)
        #expect(line["cert_issuer"] as? String == oracle.issuer)
        #expect(line["cert_dns_names"] as? [String] == oracle.dnsNames)
        #expect(line["cert_ip_addresses"] as? [String] == oracle.ipAddresses.compactMap(TestCertificates.normalizedIP))
        #expect(line["cert_not_after"] as? String == oracle.notAfter.map(TestCertificates.iso8601))
        #expect(line["cert_sha256"] as? String == oracle.sha256)
        let secondsLeft = Int((oracle.notAfter ?? Date()).timeIntervalSince1970) - Int(Date().timeIntervalSince1970)
        let daysLeft = try #require(line["cert_days_left"] as? Int)
        // The probe ran a moment ago: its count is today's, or one more if a day boundary just passed.
        #expect(daysLeft == secondsLeft / 86_400 || daysLeft == secondsLeft / 86_400 + 1, "\(daysLeft) \(secondsLeft)")
        #expect(line["tls_verification"] as? String == "unverified", "unverified by default")
        #expect(line["tls_verified"] == nil, "no check ran, so no verdict")
        #expect(line["login"] as? String == "denied", "the polite login ran inside TLS")
        #expect([1045, 1698].contains(line["login_error_code"] as? Int ?? 0))
        let tlsAt = try #require(line["tls_us"] as? Double)
        #expect(tlsAt >= (line["greeting_us"] as? Double ?? .infinity), "the handshake follows the greeting")

        // The server's view: it accepted exactly one TLS handshake, and a mariadb client session (same
        // OpenSSL, same defaults) negotiates the same protocol; the cipher is one the server offers.
        #expect(try Self.sslAccepts(lab) == acceptsBefore + 1)
        let session = try lab.clientQuery(
            "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher_list', 'Ssl_server_not_after')",
            tls: true)
        try #require(session.status == 0, "mariadb --ssl: \(session.standardError)")
        let status = Self.rows(session.standardOutput)
        #expect(status["Ssl_version"] == version)
        let offered = status["Ssl_cipher_list"] ?? ""
        #expect(offered.split(separator: ":").contains(Substring(cipher)), "\(cipher) not in \(offered)")
        // The server's own view of its certificate's expiry ("Dec 17 20:19:20 2026 GMT", openssl's form).
        // (These Ssl_* values exist only in a TLS session, hence the mariadb --ssl client.)
        let serverNotAfter = status["Ssl_server_not_after"]
        #expect(serverNotAfter.flatMap(TestCertificates.date(openSSL:)).map(TestCertificates.iso8601)
            == line["cert_not_after"] as? String)

        // Verification: the test CA vouches for the IP SAN; the system store does not know the CA; a wrong
        // name fails. `openssl verify` agrees that the chain is good.
        let verify = try ChildProcess.run([
            "openssl", "verify", "-CAfile", certificates.caFile, certificates.certificateFile,
        ])
        #expect(verify.status == 0, "openssl verify: \(verify.standardOutput)")
        let verified = try lab.probe(["203.0.113.1:3306", "--tls-ca", certificates.caFile])
        #expect(verified.status == 0 && verified.lines.first?["tls_verified"] as? Bool == true, "\(verified.lines)")
        let byName = try lab.probe(["203.0.113.1:3306", "--tls-ca", certificates.caFile, "--tls-name", "db.st.test"])
        #expect(byName.lines.first?["tls_verified"] as? Bool == true)
        let wrongName = try lab.probe(["203.0.113.1:3306", "--tls-ca", certificates.caFile, "--tls-name", "x.st.test"])
        #expect(wrongName.status == 14)
        #expect(wrongName.lines.first?["tls_verify_error"] as? String == "hostname mismatch")
        let unknownCA = try lab.probe(["203.0.113.1:3306", "--tls-verify"])
        #expect(unknownCA.status == 14)
        #expect(unknownCA.lines.first?["tls_verified"] as? Bool == false)
        #expect(unknownCA.lines.first?["tls_verification"] as? String == "failed")
        #expect(unknownCA.lines.first?["login"] as? String == "denied", "a failed check does not stop the polite login")

        // Politeness under TLS: many more TLS probes than max_connect_errors, then a normal client still
        // gets in. Every probe was a TLS session the server accepted.
        let probes = 24
        let acceptsBeforeMany = try Self.sslAccepts(lab)
        let many = try lab.probe(
            [String](repeating: "203.0.113.1:3306", count: probes) + ["--tls", "--concurrency", "4"])
        #expect(many.status == 0)
        #expect(many.lines.filter { $0["tls"] as? String == "established" && $0["login"] as? String == "denied" }.count
            == probes, "\(many.lines.map { ($0["tls"] ?? "-", $0["login"] ?? "-", $0["login_detail"] ?? "") })")
        #expect(try Self.sslAccepts(lab) == acceptsBeforeMany + probes)
        let after = try lab.clientQuery("SELECT 1")
        #expect(after.status == 0, "blocked after polite TLS probes: \(after.standardError)")

        // The impolite way under TLS (handshake, then close without a login) does get the address blocked:
        // the check above could fail.
        var rude: [(String, Int?)] = []
        for _ in 0..<(Self.maxConnectErrors + 4) {
            let probe = try lab.probe(["203.0.113.1:3306", "--tls", "--close-after-greeting"])
            rude += probe.lines.map { ($0["outcome"] as? String ?? "?", $0["error_code"] as? Int) }
            usleep(100_000)
        }
        #expect(rude.last?.0 == "error" && rude.last?.1 == 1129, "\(rude)")
    }

    @Test("A server without TLS: tls not offered, exit 13 with --expect-tls, login still polite in clear")
    func serverWithoutTLS() throws {
        try MariaDBLabTests.prerequisites()
        let lab = try MariaDBLab(maxConnectErrors: 100, prefix: "st")
        defer { lab.tearDown() }
        let haveSSL = try lab.sql("SELECT @@have_ssl").trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(haveSSL != "YES", "this server was meant to have no TLS")
        let probed = try lab.probe(["203.0.113.1:3306", "--expect-tls"])
        #expect(probed.status == 13)
        let line = try #require(probed.lines.first)
        #expect(line["tls_offered"] as? Bool == false)
        #expect(line["tls"] as? String == "not-offered")
        #expect(line["tls_version"] == nil && line["cert_subject"] == nil)
        #expect(line["login"] as? String == "denied")
        #expect(try lab.probe(["203.0.113.1:3306", "--tls"]).status == 0, "without --expect-tls it is not a failure")
        let text = try ChildProcess.run(["ip", "netns", "exec", lab.client, try Support.svcprobe(), "203.0.113.1", "--tls"])
        #expect(text.standardOutput.contains(" tls=not-offered "), "\(text.standardOutput)")
    }

    static func sslAccepts(_ lab: MariaDBLab) throws -> Int {
        let value = rows(try lab.sql("SHOW GLOBAL STATUS LIKE 'Ssl_accepts'"))["Ssl_accepts"]
        return try #require(value.flatMap { Int($0) }, "no Ssl_accepts status")
    }

    /// `NAME\tVALUE` rows as a dictionary.
    static func rows(_ text: String) -> [String: String] {
        var rows: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if fields.count == 2 { rows[fields[0]] = fields[1] }
        }
        return rows
    }
}

/// Loopback servers in Python (its `ssl` module is OpenSSL too, but a different client-facing stack than
/// MariaDB's) for the TLS paths a real server rarely takes: a handshake that fails, and a server that
/// accepts the SSLRequest but never answers the ClientHello.
enum TLSTestServers {
    static let script = #"""
        import socket, ssl, struct, sys, threading, time
        certificate, key, modes = sys.argv[1], sys.argv[2], sys.argv[3:]
        held = []
        def packet(seq, payload):
            return struct.pack('<I', len(payload))[:3] + bytes([seq]) + payload
        # HandshakeV10 with CLIENT_SSL (0x0800) in the low capability bits.
        greeting = packet(0, b'\x0a' + b'5.5.5-10.11.19-MariaDB\x00' + struct.pack('<I', 7) + b'abcdefgh\x00'
                          + struct.pack('<H', 0xfffe) + b'\x08' + struct.pack('<H', 2) + struct.pack('<H', 0x81ff)
                          + b'\x15' + b'\x00' * 6 + struct.pack('<I', 0x1d) + b'ijklmnopqrst\x00'
                          + b'mysql_native_password\x00')
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        def read_exactly(conn, count):
            data = b''
            while len(data) < count:
                chunk = conn.recv(count - len(data))
                if not chunk: return data
                data += chunk
            return data
        def serve(sock, mode):
            while True:
                conn, _ = sock.accept()
                conn.sendall(greeting)
                request = read_exactly(conn, 36)
                if mode == 'garbage':
                    conn.sendall(b'this is not TLS\r\n' * 4); held.append(conn)
                elif mode == 'stall':
                    held.append(conn)
                elif mode == 'tls':
                    tls = context.wrap_socket(conn, server_side=True)
                    header = read_exactly(tls, 4)
                    login = read_exactly(tls, header[0] | header[1] << 8 | header[2] << 16)
                    user = login[32:login.index(b'\x00', 32)].decode()
                    tls.sendall(packet(header[3] + 1, b'\xff' + struct.pack('<H', 1045) + b'#28000'
                                       + ("Access denied for user '%s'" % user).encode()))
                    tls.unwrap(); conn.close()
        ports = []
        for mode in modes:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(('127.0.0.1', 0)); sock.listen(16)
            ports.append(sock.getsockname()[1])
            threading.Thread(target=serve, args=(sock, mode), daemon=True).start()
        print('ready', *ports, flush=True)
        while True:
            time.sleep(3600)
        """#
}

@Suite("svcprobe --tls: handshake outcomes against loopback servers", .serialized)
struct TLSLoopbackTests {
    @Test func handshakeSucceedsFailsOrStalls() throws {
        try #require(ChildProcess.which("python3") != nil && ChildProcess.which("openssl") != nil, "python3 and openssl")
        let certificates = try TestCertificates(subject: "/CN=loopback.st.test", subjectAltName: "IP:127.0.0.1")
        defer { certificates.remove() }
        let modes = ["tls", "garbage", "stall"]
        let server = try Background([
            "python3", "-c", TLSTestServers.script, certificates.certificateFile, certificates.keyFile,
        ] + modes)
        defer { server.stop() }
        let ready = try #require(server.firstLine())
        let ports = ready.split(separator: " ").dropFirst().compactMap { UInt16($0) }
        try #require(ports.count == modes.count, "\(ready)")
        var options = ProbeOptions()
        options.timeoutNanoseconds = 600_000_000
        options.tls.enabled = true
        options.tls.verify = true
        options.tls.caFile = certificates.caFile
        let results = Prober(options: options).run(ports.map { ProbeTarget(host: "127.0.0.1", port: $0) })

        let good = results[0]
        #expect(good.tls?.status == .established, "\(good.tls?.error ?? "")")
        #expect(good.tls?.verification == .verified, "the test CA vouches for IP:127.0.0.1")
        #expect(good.tls?.certificate?.subject == (try certificates.oracle().subject))
        if case .denied(let error) = good.login {
            #expect(error.code.rawValue == 1045 && error.message == "Access denied for user 'svcprobe'")
        } else {
            Issue.record("login inside TLS: \(good.login)")
        }

        let garbage = results[1]
        #expect(garbage.outcome == .greeting && garbage.tls?.status == .failed)
        let sentence = garbage.tls?.error ?? ""
        #expect(sentence.hasPrefix("TLS handshake failed: ") && !sentence.contains("\n"), "\(sentence)")
        #expect(sentence.contains("SSL routines"), "OpenSSL's own reason: \(sentence)")

        let stall = results[2]
        #expect(stall.tls?.status == .failed && stall.tls?.error?.contains("timed out") == true)
        #expect(stall.timings.total < 2 * options.timeoutNanoseconds + 200_000_000, "bounded by the probe's budget")
        #expect(ProbeVerdict.status(results, expectUp: false, expectVersion: nil, expectTLS: true) == 14)
    }
}
