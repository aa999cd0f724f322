import BGPDecodeKit
import Foundation
import PacketCore
import TestSupport
import Testing

/// Issue 16 item 10, the guards of `bgpdecode listen` that had no test: a connection that never sends an
/// OPEN, running out of file descriptors while accepting, and the TCP-MD5 password read from a file.
@Suite("bgpdecode listen: silent peers, no file descriptors left, password files (issue 16 item 10)")
struct ListenLimitsTests {
    // MARK: A connection without an OPEN

    /// Connections that never complete an OPEN: silent (a port scan, a stuck speaker), and one that sends
    /// a header announcing a 60-byte OPEN and then nothing (a slow or hostile peer: bytes alone must not
    /// keep the connection open).
    static let withoutOpen: [(name: String, bytes: [UInt8])] = [
        ("sends nothing", []),
        ("sends an OPEN header and stops", [UInt8](repeating: 0xFF, count: 16) + [0, 60, 1]),
    ]

    /// The listener's default configuration (the one `bgpdecode listen` runs with), so the time measured is
    /// the default: RFC 4271 section 8.2.2 suggests 4 minutes for the OpenSent hold timer, which held a
    /// socket per silent connection for 240 s. The peer gets our OPEN at once, then Hold Timer Expired
    /// (RFC 4271 section 6.5: error code 4, no subcode) and a FIN about 15 s after it connected.
    @Test(arguments: 0..<2)
    func aConnectionWithoutAnOpenIsClosedAfterFifteenSeconds(index: Int) throws {
        let (name, bytes) = Self.withoutOpen[index]
        let running = try HostilePeerTests.Running()
        defer { running.finish() }
        let started = ContinuousClock.now
        let client = try running.connect()
        defer { close(client) }
        // Long enough to see the close if the timer were 15 s, far short of 240 s.
        var timeout = timeval(tv_sec: 25, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if !bytes.isEmpty { ListenerLoopbackTests.send(client, bytes) }
        let (received, closed) = ListenerLoopbackTests.drain(client)
        let elapsed = ContinuousClock.now - started
        #expect(ListenerLoopbackTests.types(received) == [1, 3], "\(name): message types \(received)")
        let notifications = Self.notificationCodes(received)
        #expect(notifications == [[4, 0]], "\(name): \(notifications)")
        #expect(closed, "\(name): the connection was not closed within 25 s")
        #expect(elapsed >= .seconds(14) && elapsed <= .seconds(18), "\(name): closed after \(elapsed)")
        let expected = "127.0.0.1 sent no OPEN within 15 s of connecting: sent Hold Timer Expired (4/0) and "
            + "closed the connection"
        #expect(running.log.filter { $0 == expected }.count == 1, "\(name): \(running.log)")
    }

    /// The (code, subcode) of each NOTIFICATION in `bytes` (RFC 4271 section 4.5).
    static func notificationCodes(_ bytes: [UInt8]) -> [[UInt8]] {
        var codes: [[UInt8]] = []
        var index = 0
        while index + 19 <= bytes.count {
            let length = Int(bytes[index + 16]) << 8 | Int(bytes[index + 17])
            guard length >= 19, index + length <= bytes.count else { break }
            if bytes[index + 18] == 3, length >= 21 { codes.append([bytes[index + 19], bytes[index + 20]]) }
            index += length
        }
        return codes
    }

    // MARK: Out of file descriptors

    /// `bgpdecode listen` (the built executable, so the limit is its own and not the test runner's) with
    /// at most `limit` open descriptors, on 127.0.0.5, standard output and error in files.
    final class LimitedListener {
        let process = Process()
        let directory: URL
        let port: UInt16
        static let address = "127.0.0.5"

        init(limit: Int) throws {
            let binary = try BGPHelpTests.binary()
            port = try Self.freePort()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("lt-emfile-\(getpid())-\(port)")
            try? FileManager.default.removeItem(at: directory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for file in ["out", "err"] { _ = FileManager.default.createFile(atPath: path(file), contents: nil) }
            // The shell lowers its own limit (soft and hard) and becomes bgpdecode: the PID is the listener's.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(limit) && exec \"$0\" \"$@\"", binary, "listen",
                "--local-as", "64512", "--router-id", "203.0.113.254", "--accept-any",
                "--bind", "\(Self.address):\(port)"]
            process.standardOutput = FileHandle(forWritingAtPath: path("out"))
            process.standardError = FileHandle(forWritingAtPath: path("err"))
            try process.run()
        }

        /// A port nothing listens on at 127.0.0.5 just now (the kernel's choice).
        static func freePort() throws -> UInt16 {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(descriptor >= 0)
            defer { close(descriptor) }
            var address = ListenLimitsTests.socketAddress(0x7F00_0005, port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let status = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, length) == 0 ? getsockname(descriptor, $0, &length) : -1
                }
            }
            try #require(status == 0, "bind 127.0.0.5: \(String(cString: strerror(errno)))")
            return UInt16(bigEndian: address.sin_port)
        }

        func path(_ file: String) -> String { directory.appendingPathComponent(file).path }

        var errors: String { (try? String(contentsOfFile: path("err"), encoding: .utf8)) ?? "" }

        var pid: Int32 { process.processIdentifier }

        /// The descriptors it holds (entries of /proc/PID/fd).
        var openDescriptors: [Int] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).compactMap { Int($0) }
        }

        /// The descriptors below `limit`, the ones the limit counts: a descriptor the test runner had open
        /// when this process was started (a pipe of another test's child) is inherited at its old number,
        /// which may be above the limit set afterwards.
        func descriptors(below limit: Int) -> Int { openDescriptors.filter { $0 < limit }.count }

        /// What each descriptor is, for a failure message.
        var descriptorTargets: String {
            openDescriptors.sorted().map { descriptor in
                "\(descriptor)=" + ((try? FileManager.default.destinationOfSymbolicLink(
                    atPath: "/proc/\(pid)/fd/\(descriptor)")) ?? "?")
            }.joined(separator: " ")
        }

        /// User plus system CPU time so far, from /proc/PID/stat (fields 14 and 15, in clock ticks).
        func cpuSeconds() throws -> Double {
            let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
            let end = try #require(text.lastIndex(of: ")"))
            let fields = text[text.index(after: end)...].split(separator: " ")
            try #require(fields.count > 12, "\(text)")
            let user = try #require(Double(fields[11]))
            let system = try #require(Double(fields[12]))
            return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }

        func stop() -> Int32? {
            guard process.isRunning else { return process.terminationStatus }
            kill(pid, SIGINT)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(pid, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            return process.terminationStatus
        }

        func tearDown() {
            _ = stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func socketAddress(_ address: UInt32, port: UInt16) -> sockaddr_in {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        socketAddress.sin_addr.s_addr = address.bigEndian
        return socketAddress
    }

    /// A client from `source` (each its own loopback address: `--accept-any` keeps one session per address,
    /// so every accepted connection holds a descriptor) to the listener.
    static func connect(from source: UInt32, to port: UInt16) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(descriptor >= 0, "socket: \(String(cString: strerror(errno)))")
        var local = socketAddress(source, port: 0)
        var remote = socketAddress(0x7F00_0005, port: port)
        let status = withUnsafePointer(to: &local) { local in
            withUnsafePointer(to: &remote) { remote in
                local.withMemoryRebound(to: sockaddr.self, capacity: 1) { local in
                    remote.withMemoryRebound(to: sockaddr.self, capacity: 1) { remote in
                        bind(descriptor, local, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                            ? Glibc.connect(descriptor, remote, socklen_t(MemoryLayout<sockaddr_in>.size)) : -1
                    }
                }
            }
        }
        if status != 0 { close(descriptor) }
        try #require(status == 0, "connect: \(String(cString: strerror(errno)))")
        return descriptor
    }

    /// Whether the listener's OPEN has arrived on `client` (without waiting).
    static func receivedOpen(_ client: Int32) -> Bool {
        var header = [UInt8](repeating: 0, count: 4096)
        let count = header.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return count >= 19 && header[18] == 1
    }

    static let outOfDescriptors = "bgpdecode: cannot accept a connection: Too many open files"
    static let acceptingAgain = "bgpdecode: accepting connections again"

    /// Sixty clients against a listener allowed 32 descriptors: it accepts what it can, the rest wait in
    /// the kernel's queue. The listener must say so once (not once per retry), not spin on the queued
    /// connection (poll reports the listening socket readable at once: 100 % of a core), and accept again
    /// when descriptors are free: a new peer gets our OPEN. A second episode is reported again.
    @Test func runningOutOfDescriptorsIsLoggedOnceAndSurvivedWithoutASpin() throws {
        let limit = 32
        let listener = try LimitedListener(limit: limit)
        defer { listener.tearDown() }
        let listening = waitFor(10) { listener.errors.contains("listening on 127.0.0.5") }
        try #require(listening, "bgpdecode listen did not start: \(listener.errors)")
        let baseline = listener.descriptors(below: limit)
        try #require(baseline > 0 && baseline < limit - 2, "at the start: \(listener.descriptorTargets)")

        var clients: [Int32] = []
        defer { for client in clients { close(client) } }
        // 127.0.1.1 to 127.0.1.60.
        for host in 1...60 { clients.append(try Self.connect(from: 0x7F00_0100 + UInt32(host), to: listener.port)) }
        let ranOut = waitFor(5) { listener.errors.contains(Self.outOfDescriptors) }
        try #require(ranOut, "the listener never ran out of descriptors: \(listener.errors)")
        usleep(300_000)
        let accepted = clients.filter(Self.receivedOpen).count
        #expect(accepted == limit - baseline, "\(accepted) accepted; at the start: \(baseline) below \(limit)")
        #expect(listener.descriptors(below: limit) == limit, "\(listener.descriptorTargets)")

        // Three seconds out of descriptors, three retries: CPU time well below a core, one log line.
        let before = try listener.cpuSeconds()
        sleep(3)
        let used = try listener.cpuSeconds() - before
        #expect(used < 0.3, "the listener used \(used) s of CPU in 3 s while out of descriptors")
        #expect(listener.process.isRunning)
        #expect(Self.count(Self.outOfDescriptors, in: listener.errors) == 1, "\(listener.errors)")

        // Descriptors free again: the queue the episode left (closed connections by now, more of them than
        // there are free descriptors) is accepted in rounds, and the episode ends when it is empty. Digging
        // out of it runs out of descriptors again, but that is the same episode.
        for client in clients { close(client) }
        clients = []
        let resumed = waitFor(8) { listener.errors.contains(Self.acceptingAgain) }
        #expect(resumed, "\(listener.errors)")
        let recovered = waitFor(3) { listener.descriptors(below: limit) == baseline }
        #expect(recovered, "after every client closed: \(listener.descriptorTargets)")
        #expect(Self.count(Self.outOfDescriptors, in: listener.errors) == 1,
            "digging out of the queue the episode left is still that episode: \(listener.errors)")
        let peer = try Self.connect(from: 0x7F00_0201, to: listener.port)
        clients.append(peer)
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var header = [UInt8](repeating: 0, count: 19)
        let count = header.withUnsafeMutableBytes { recv(peer, $0.baseAddress, 19, Int32(MSG_WAITALL)) }
        #expect(count == 19 && header[18] == 1, "no OPEN for a new peer after the episode: \(listener.errors)")
        #expect(listener.errors.contains("127.0.2.1 connected to 127.0.0.5"), "\(listener.errors)")

        // A second episode is a new one: said again, and again only once.
        for host in 1...60 { clients.append(try Self.connect(from: 0x7F00_0300 + UInt32(host), to: listener.port)) }
        let again = waitFor(5) { Self.count(Self.outOfDescriptors, in: listener.errors) >= 2 }
        #expect(again, "\(listener.errors)")
        sleep(2)
        #expect(Self.count(Self.outOfDescriptors, in: listener.errors) == 2, "\(listener.errors)")
        #expect(listener.stop() == 0, "\(listener.errors)")
    }

    static func count(_ line: String, in text: String) -> Int { text.components(separatedBy: line).count - 1 }

    // MARK: --md5-password-file

    /// `--md5-password-file PEER=FILE` against BIRD with `password "s3cret"` in a namespace: the key is the
    /// file's first line (a second line must not become part of it), and a file with another password
    /// gives no session (the kernel drops BIRD's signed SYNs).
    @Test func md5PasswordFromAFileRightAndWrong() throws {
        let lab = try ListenLab(namespacePrefix: "lt-")
        defer { lab.tearDown() }
        let listenerNS = try lab.namespace("l")
        let birdNS = try lab.namespace("b")
        try lab.link(listenerNS, 0, ["\(ListenTests.listenerV4)/24", "fd99:5::254/64"],
            birdNS, 0, ["\(ListenTests.birdV4)/24", "fd99:5::1/64"])
        try lab.startBird("bird", in: birdNS, routerID: ListenTests.birdV4,
            ListenTests.birdConfig(extra: "password \"s3cret\";"))
        try "s3cret\nnot part of the password\n".write(toFile: lab.path("right.key"), atomically: true, encoding: .utf8)
        try "s3cre".write(toFile: lab.path("wrong.key"), atomically: true, encoding: .utf8)
        let peer = ["--peer", ListenTests.birdV4, "--peer-as", ListenTests.birdAS,
            "--expect-prefix", "198.51.100.10/32", "--expect-prefix", "198.51.100.11/32",
            "--expect-prefix", "2001:db8:51::10/128"]
        let right = try ListenTests.listen(lab, listenerNS, name: "right",
            peer + ["--md5-password-file", "\(ListenTests.birdV4)=\(lab.path("right.key"))", "--wait", "15"])
        #expect(lab.exitStatus(right, within: 20) == 0, "\(lab.read("right.out")) \(lab.read("right.err"))")
        #expect(lab.read("right.err").contains("session established"), "\(lab.read("right.err"))")
        let wrong = try ListenTests.listen(lab, listenerNS, name: "wrong",
            peer + ["--md5-password-file", "\(ListenTests.birdV4)=\(lab.path("wrong.key"))", "--wait", "4"])
        #expect(lab.exitStatus(wrong, within: 10) == BGPVerification.noSessionCode,
            "\(lab.read("wrong.out")) \(lab.read("wrong.err"))")
        #expect(!lab.read("wrong.err").contains("connected"), "\(lab.read("wrong.err"))")
        #expect(try !lab.birdc("bird", "show protocols lis").output.contains("Established"))
    }

    /// A password file that is missing, a directory, empty, or whose first line is empty or longer than an
    /// RFC 2385 key (80 bytes) is refused before the socket opens: status 1 and one sentence on stderr
    /// that names the file.
    @Test(arguments: ["missing", "directory", "empty", "blank first line", "too long"])
    func unusablePasswordFileIsRefused(kind: String) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("lt-keys-\(getpid())-\(kind.replacingOccurrences(of: " ", with: "-"))")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("key").path
        switch kind {
        case "directory": try FileManager.default.createDirectory(atPath: file, withIntermediateDirectories: false)
        case "empty": try "".write(toFile: file, atomically: true, encoding: .utf8)
        case "blank first line": try "\ns3cret\n".write(toFile: file, atomically: true, encoding: .utf8)
        case "too long": try String(repeating: "k", count: 81).write(toFile: file, atomically: true, encoding: .utf8)
        default: break
        }
        let port = try LimitedListener.freePort()
        // Not ChildProcess.run: a file that is wrongly accepted starts a listener that never exits.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BGPHelpTests.binary())
        process.arguments = ["listen", "--local-as", "64512", "--router-id", "203.0.113.254",
            "--peer", "127.0.0.1", "--peer-as", "65001", "--bind", "\(LimitedListener.address):\(port)",
            "--md5-password-file", "127.0.0.1=\(file)"]
        let errorPath = directory.appendingPathComponent("err").path
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
        let exited = waitFor(5) { !process.isRunning }
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let result = (status: exited ? process.terminationStatus : -1,
            standardError: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
        #expect(result.status == 1, "\(kind): status \(result.status), \(result.standardError)")
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(kind): \(result.standardError)")
        #expect(result.standardError.hasPrefix("bgpdecode: ") && result.standardError.contains(file),
            "\(kind): \(result.standardError)")
        #expect(!result.standardError.contains("listening on"), "\(kind): \(result.standardError)")
    }
}

/// Wait up to `seconds` for `condition`; whether it held.
private func waitFor(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}
