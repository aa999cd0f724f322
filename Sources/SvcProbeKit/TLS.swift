import COpenSSL
import Glibc
import PacketCore

/// What `--tls` asks of a probe.
public struct TLSOptions: Sendable, Hashable {
    /// Send an SSLRequest after a greeting that offers CLIENT_SSL and complete a TLS handshake.
    public var enabled = false
    /// Check the certificate chain and name (against `caFile`, else the system store). The handshake goes
    /// on whatever the result: the probe reports what the server presents either way.
    public var verify = false
    /// PEM file of trusted CA certificates for `verify` (instead of the system store).
    public var caFile: String?
    /// The name sent as SNI and checked with `verify`; default: the target's host when it is a name.
    public var serverName: String?

    public init() {}
}

/// An OpenSSL failure as one sentence: `context: reason (library, code)`, built from OpenSSL's error queue.
public struct OpenSSLError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    public init(message: String) { self.message = message }

    public var description: String { message }

    /// Empty this thread's error queue into one sentence that starts with `context`. `fallback` says what
    /// happened when OpenSSL queued nothing (a system call failed, or the peer just closed). Only the first
    /// queued error is kept: it is the root cause, the later ones are the layers that passed it up.
    static func drain(_ context: String, fallback: String) -> OpenSSLError {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            reasons.append(Self.readable(text))
        }
        return OpenSSLError(message: context + ": " + (reasons.first ?? fallback))
    }

    /// `error:0A00010B:SSL routines::wrong version number` reads better as
    /// `wrong version number (SSL routines, 0A00010B)`.
    static func readable(_ text: String) -> String {
        let fields = text.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 5, fields[0] == "error" else { return text }
        let reason = fields[4].isEmpty ? "unknown reason" : fields[4]
        return "\(reason) (\(fields[2]), \(fields[1]))"
    }
}

/// What the server's certificate says (as presented; `TLSReport.verification` says whether it checks out).
public struct CertificateSummary: Sendable, Hashable {
    /// Distinguished names in OpenSSL's one-line form, as `openssl x509 -noout -subject` prints them.
    public var subject: String
    public var issuer: String
    /// subjectAltName entries: DNS names and IP addresses (IPv6 in RFC 5952 form), in certificate order.
    public var dnsNames: [String]
    public var ipAddresses: [String]
    /// Validity, seconds since the Unix epoch (UTC).
    public var notBefore: Int64?
    public var notAfter: Int64?
    /// SHA-256 of the DER certificate, upper-case hex pairs joined by ':' (as `openssl x509 -fingerprint`).
    public var sha256: String

    /// Whole days from `now` (Unix seconds) to `notAfter`, negative once expired (rounded toward -infinity,
    /// so a certificate that expired an hour ago shows -1).
    public func daysRemaining(now: Int64) -> Int64? {
        guard let notAfter else { return nil }
        let seconds = notAfter - now
        return seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
    }

    /// Read the first certificate of a PEM file (for tests and for comparing with a live server's).
    public static func read(pemFile path: String) throws(OpenSSLError) -> CertificateSummary {
        ERR_clear_error()
        guard let bio = BIO_new_file(path, "r") else {
            throw OpenSSLError.drain("cannot open \(path)", fallback: "no such file")
        }
        defer { BIO_free(bio) }
        guard let handle = PEM_read_bio_X509(bio, nil, nil, nil) else {
            throw OpenSSLError.drain("\(path) holds no PEM certificate", fallback: "no certificate found")
        }
        return CertificateSummary(X509Certificate(owning: handle))
    }

    init(_ certificate: X509Certificate) {
        subject = Self.oneLine(X509_get_subject_name(certificate.handle))
        issuer = Self.oneLine(X509_get_issuer_name(certificate.handle))
        notBefore = Self.seconds(X509_get0_notBefore(certificate.handle))
        notAfter = Self.seconds(X509_get0_notAfter(certificate.handle))
        dnsNames = []
        ipAddresses = []
        if let names = GeneralNames(of: certificate) {
            for index in 0..<vipscope_general_names_count(names.handle) {
                guard let name = vipscope_general_names_value(names.handle, index) else { continue }
                switch name.pointee.type {
                case GEN_DNS:
                    if let text = Self.bytes(of: name.pointee.d.dNSName) {
                        dnsNames.append(String(decoding: text, as: UTF8.self))
                    }
                case GEN_IPADD:
                    if let raw = Self.bytes(of: name.pointee.d.iPAddress), let text = Self.ipText(raw) {
                        ipAddresses.append(text)
                    }
                default:
                    continue
                }
            }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        if X509_digest(certificate.handle, EVP_sha256(), &digest, &length) == 1 {
            sha256 = digest.prefix(Int(length)).map { byte in
                let hex = String(byte, radix: 16, uppercase: true)
                return hex.count == 1 ? "0" + hex : hex
            }.joined(separator: ":")
        } else {
            sha256 = ""
        }
    }

    /// OpenSSL's one-line name form, `C = DE, O = Lab, CN = db.lab`, exactly as the openssl 3 command line
    /// prints -subject/-issuer by default (bytes over 0x7F escaped as `\C3\BC`), so the two can be compared.
    static func oneLine(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, vipscope_name_oneline_flags()) >= 0 else { return "" }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            let count = chunk.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
            if count <= 0 { break }
            text += chunk.prefix(Int(count))
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
        guard let time else { return nil }
        var broken = tm()
        guard ASN1_TIME_to_tm(time, &broken) == 1 else { return nil }
        return Int64(timegm(&broken))
    }

    static func bytes(of string: UnsafeMutablePointer<ASN1_STRING>?) -> [UInt8]? {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return nil }
        let length = Int(ASN1_STRING_length(string))
        guard length >= 0 else { return nil }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    static func ipText(_ raw: [UInt8]) -> String? {
        let family: Int32
        switch raw.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok = raw.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) != nil }
        return ok ? String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }
}

/// Whether the certificate was checked, and what the check said.
public enum TLSVerification: Sendable, Hashable {
    /// Not checked (the default: the probe is a diagnostic and shows what the server presents).
    case unverified
    /// Chain and name check out against the trust store.
    case verified
    /// The check failed: OpenSSL's reason (`X509_verify_cert_error_string`).
    case failed(String)
}

/// What `--tls` found for one probe that got a greeting.
public struct TLSReport: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        /// The handshake completed (the login then ran inside TLS).
        case established
        /// The greeting does not offer CLIENT_SSL: the server has no TLS configured (the login ran in clear).
        case notOffered = "not-offered"
        /// The SSLRequest was sent but the handshake did not complete (`error` says why).
        case failed
    }

    public var status: Status
    /// Negotiated protocol (`TLSv1.3`) and cipher suite (`TLS_AES_256_GCM_SHA384`).
    public var version: String?
    public var cipher: String?
    public var certificate: CertificateSummary?
    public var verification: TLSVerification = .unverified
    /// Days from the probe to the certificate's notAfter.
    public var daysRemaining: Int64?
    /// One sentence when `status` is `failed`.
    public var error: String?

    public init(status: Status) { self.status = status }
}

// MARK: - OpenSSL owners (each C object belongs to exactly one Swift object, freed in its deinit)

/// An `SSL_CTX` for client connections, shared by every probe of one run.
final class TLSContext {
    let handle: OpaquePointer
    let options: TLSOptions

    init(_ options: TLSOptions) throws(OpenSSLError) {
        ERR_clear_error()
        guard let handle = SSL_CTX_new(TLS_client_method()) else {
            throw OpenSSLError.drain("cannot create a TLS context", fallback: "out of memory")
        }
        self.handle = handle
        self.options = options
        // Verify nothing during the handshake (the probe must see the certificate even when it would be
        // rejected); with `verify` the result is read afterwards with SSL_get_verify_result.
        SSL_CTX_set_verify(handle, SSL_VERIFY_NONE, nil)
        // SSL_write may be retried with a buffer that moved (Swift arrays do) after WANT_WRITE.
        _ = vipscope_ssl_ctx_set_mode(handle, Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE))
        if options.verify {
            if let caFile = options.caFile {
                guard SSL_CTX_load_verify_locations(handle, caFile, nil) == 1 else {
                    throw OpenSSLError.drain("cannot load CA certificates from \(caFile)", fallback: "unreadable file")
                }
            } else if SSL_CTX_set_default_verify_paths(handle) != 1 {
                throw OpenSSLError.drain("cannot load the system's trusted certificates", fallback: "unknown error")
            }
        }
    }

    deinit { SSL_CTX_free(handle) }
}

/// One TLS connection over a socket the probe owns (SSL_free does not close it: the probe does).
final class TLSSession {
    let handle: OpaquePointer
    let context: TLSContext
    /// A fatal error happened: OpenSSL forbids SSL_shutdown afterwards.
    private(set) var isBroken = false
    private(set) var isShutDown = false

    /// `host` is the target as written: a name is sent as SNI (and checked with `verify`); an IP literal is
    /// checked against the certificate's IP SANs.
    init(context: TLSContext, descriptor: Int32, host: String) throws(OpenSSLError) {
        ERR_clear_error()
        guard let handle = SSL_new(context.handle) else {
            throw OpenSSLError.drain("cannot create a TLS connection", fallback: "out of memory")
        }
        self.handle = handle
        self.context = context
        guard SSL_set_fd(handle, descriptor) == 1 else {
            throw OpenSSLError.drain("cannot attach TLS to the socket", fallback: "unknown error")
        }
        let isLiteral = Self.isIPLiteral(host)
        let name = context.options.serverName ?? (isLiteral ? nil : host)
        if let name, !Self.isIPLiteral(name) {
            // RFC 6066 section 3: SNI carries host names only, never address literals.
            _ = vipscope_ssl_set_server_name(handle, name)
        }
        if context.options.verify {
            if let name {
                if Self.isIPLiteral(name) {
                    _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), name)
                } else {
                    _ = SSL_set1_host(handle, name)
                }
            } else {
                _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), host)
            }
        }
    }

    deinit { SSL_free(handle) }

    static func isIPLiteral(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }

    /// What a non-blocking OpenSSL call asks for next.
    enum Step {
        case done(Int)
        case wantRead
        case wantWrite
        /// The peer closed: cleanly (close_notify) or with a bare FIN.
        case closed
        case reset
        case failed(OpenSSLError)
    }

    /// One step of the handshake.
    func connect() -> Step {
        step("TLS handshake failed") { SSL_connect(handle) }
    }

    func read(into buffer: inout [UInt8]) -> Step {
        buffer.withUnsafeMutableBytes { raw in
            step("TLS read failed") { SSL_read(handle, raw.baseAddress, Int32(clamping: raw.count)) }
        }
    }

    func write(_ bytes: [UInt8]) -> Step {
        bytes.withUnsafeBytes { raw in
            step("TLS write failed") { SSL_write(handle, raw.baseAddress, Int32(clamping: raw.count)) }
        }
    }

    /// Send close_notify once (without waiting for the peer's: the socket is closed next).
    func shutdown() {
        guard !isBroken, !isShutDown else { return }
        isShutDown = true
        ERR_clear_error()
        _ = Self.withoutSIGPIPE { SSL_shutdown(handle) }
        ERR_clear_error()
    }

    private func step(_ context: String, _ call: () -> Int32) -> Step {
        ERR_clear_error()
        errno = 0
        let status = Self.withoutSIGPIPE(call)
        if status > 0 { return .done(Int(status)) }
        let code = SSL_get_error(handle, status)
        let systemError = errno
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            isBroken = true
            if ERR_peek_error() == 0 {
                if systemError == ECONNRESET { return .reset }
                if systemError == 0 || systemError == EPIPE { return .closed }
                return .failed(OpenSSLError(message: "\(context): " + String(cString: strerror(systemError))))
            }
            return .failed(OpenSSLError.drain(context, fallback: "system error"))
        default:
            isBroken = true
            return .failed(OpenSSLError.drain(context, fallback: "OpenSSL error \(code)"))
        }
    }

    /// What the handshake gave: version, cipher, the peer's certificate, the verification verdict.
    func report(now: Int64) -> TLSReport {
        var report = TLSReport(status: .established)
        report.version = SSL_get_version(handle).map { String(cString: $0) }
        report.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(handle)).map { String(cString: $0) }
        if let peer = SSL_get1_peer_certificate(handle) {
            let summary = CertificateSummary(X509Certificate(owning: peer))
            report.certificate = summary
            report.daysRemaining = summary.daysRemaining(now: now)
        }
        if context.options.verify {
            let result = SSL_get_verify_result(handle)
            if report.certificate == nil {
                report.verification = .failed("the server presented no certificate")
            } else if result == X509_V_OK {
                report.verification = .verified
            } else {
                report.verification = .failed(String(cString: X509_verify_cert_error_string(result)))
            }
        }
        return report
    }

    /// Run `body` with SIGPIPE blocked on this thread and swallow a SIGPIPE it raised. OpenSSL writes to
    /// the socket with write(2), not send(MSG_NOSIGNAL), so a server that already closed would otherwise
    /// kill the whole process; the error still comes back as EPIPE. Thread-local: no process-wide state.
    static func withoutSIGPIPE<R>(_ body: () -> R) -> R {
        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        var pending = sigset_t()
        sigpending(&pending)
        let wasPending = sigismember(&pending, SIGPIPE) == 1
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
        let result = body()
        if !wasPending {
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 {
                var immediately = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeOnly, nil, &immediately)
            }
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        return result
    }
}

/// An `X509` certificate this object holds a reference to.
final class X509Certificate {
    let handle: OpaquePointer

    init(owning handle: OpaquePointer) { self.handle = handle }

    deinit { X509_free(handle) }
}

/// A certificate's decoded subjectAltName extension.
final class GeneralNames {
    let handle: OpaquePointer

    init?(of certificate: X509Certificate) {
        guard let raw = X509_get_ext_d2i(certificate.handle, NID_subject_alt_name, nil, nil) else { return nil }
        handle = OpaquePointer(raw)
    }

    deinit { GENERAL_NAMES_free(handle) }
}

extension CertificateSummary {
    /// `2027-06-01T12:00:00Z`.
    public static func utc(_ seconds: Int64) -> String {
        let text = Timestamp(seconds: seconds, nanoseconds: 0).iso8601
        return text.hasSuffix(".000000000Z") ? String(text.dropLast(11)) + "Z" : text
    }
}
