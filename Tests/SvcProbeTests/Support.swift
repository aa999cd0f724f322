import Foundation
import TestSupport
import Testing

/// Helpers for the svcprobe tests: child processes, the built svcprobe executable, JSON Lines.
enum Support {
    static let repository = TestEnvironment.repository
    static let captures = TestEnvironment.captures

    /// The svcprobe executable built beside this test bundle.
    static func svcprobe() throws -> String {
        try #require(
            TestEnvironment.builtTool("svcprobe"), "build the svcprobe executable first (swift build --build-tests)")
    }
}

/// A child process started in the background and ended by its PID.
final class Background {
    let process = Process()
    let output = Pipe()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// The first line the child prints (it announces readiness), or nil at end of file.
    func firstLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let data = output.fileHandleForReading.readData(ofLength: 1)
            guard let byte = data.first else { return nil }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    /// Everything the child printed, once it has ended on its own (within `seconds`, else it is stopped).
    func outputAfterExit(within seconds: Double) -> (status: Int32, output: String) {
        let reader = output.fileHandleForReading
        let deadline = Date().addingTimeInterval(seconds)
        var data = Data()
        // Read while waiting, so a chatty child never blocks on a full pipe.
        while process.isRunning && Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { usleep(20_000) } else { data.append(chunk) }
        }
        if process.isRunning { stop() }
        process.waitUntilExit()
        data.append(reader.readDataToEndOfFile())
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<50 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Small TCP servers in Python that misbehave in the ways a probe must classify. Each binds port 0 on
/// `address` and the script prints `ready PORT...` in the order of `modes`.
enum TestServers {
    static let script = #"""
        import socket, struct, sys, threading, time
        address, modes = sys.argv[1], sys.argv[2:]
        held = []
        def packet(seq, payload):
            return struct.pack('<I', len(payload))[:3] + bytes([seq]) + payload
        greeting = packet(0, b'\x0a' + b'5.5.5-10.11.19-MariaDB\x00' + struct.pack('<I', 7) + b'abcdefgh\x00'
                          + struct.pack('<H', 0xf7fe) + b'\x08' + struct.pack('<H', 2) + struct.pack('<H', 0x81ff)
                          + b'\x15' + b'\x00' * 6 + struct.pack('<I', 0x1d) + b'ijklmnopqrst\x00'
                          + b'mysql_native_password\x00')
        def serve(sock, mode):
            while True:
                conn, _ = sock.accept()
                if mode == 'silent':
                    held.append(conn)
                elif mode == 'banner':
                    conn.sendall(b'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'); held.append(conn)
                elif mode == 'close':
                    conn.close()
                elif mode == 'reset':
                    conn.sendall(greeting[:20]); time.sleep(0.05)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); conn.close()
                elif mode == 'toomany':
                    conn.sendall(packet(0, b'\xff' + struct.pack('<H', 1040) + b'Too many connections')); conn.close()
                elif mode == 'hostile':
                    # A greeting whose version and auth plugin hold CR/LF and an ESC sequence, then an ERR
                    # packet (the login verdict) whose message holds CR/LF.
                    evil = (b'\x0a' + b'10.11.19-MariaDB\r\nfake line \x1b[2J\x1b]0;owned\x07\x00' + struct.pack('<I', 7)
                            + b'abcdefgh\x00' + struct.pack('<H', 0xf7fe) + b'\x08' + struct.pack('<H', 2)
                            + struct.pack('<H', 0x81ff) + b'\x15' + b'\x00' * 6 + struct.pack('<I', 0x1d)
                            + b'ijklmnopqrst\x00' + b'evil\r\nplugin\x00')
                    conn.sendall(packet(0, evil))
                    conn.recv(4096)
                    conn.sendall(packet(2, b'\xff' + struct.pack('<H', 1045) + b'#28000'
                                        + b'Access denied\r\n2026-01-01 up 198.51.100.1:3306 greeting\x1b[31m'))
                    time.sleep(0.05); conn.close()
                elif mode == 'errhostile':
                    conn.sendall(packet(0, b'\xff' + struct.pack('<H', 1129) + b'Host blocked\r\nsummary forged\x1b[0m'))
                    conn.close()
                elif mode == 'stall':
                    # Like a SIGSTOPped server: accept, say nothing for 0.6 s, then greet and answer the login.
                    def late(c):
                        time.sleep(0.6)
                        c.sendall(greeting)
                        c.recv(4096)
                        c.sendall(packet(2, b'\xff' + struct.pack('<H', 1045) + b'#28000Access denied'))
                        time.sleep(0.05); c.close()
                    threading.Thread(target=late, args=(conn,), daemon=True).start()
                elif mode == 'slowgreeting':
                    for i in range(0, len(greeting), 7):
                        conn.sendall(greeting[i:i + 7]); time.sleep(0.01)
                    held.append(conn)
        family = socket.AF_INET6 if ':' in address else socket.AF_INET
        ports = []
        for mode in modes:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, 0)); sock.listen(64)
            ports.append(sock.getsockname()[1])
            threading.Thread(target=serve, args=(sock, mode), daemon=True).start()
        print('ready', *ports, flush=True)
        while True:
            time.sleep(3600)
        """#

    /// Start the servers (optionally inside a network namespace); returns the process and the ports.
    static func start(address: String, modes: [String], namespace: String? = nil) throws -> (Background, [UInt16]) {
        let prefix = namespace.map { ["ip", "netns", "exec", $0] } ?? []
        let server = try Background(prefix + ["python3", "-c", script, address] + modes)
        guard let line = server.firstLine(), line.hasPrefix("ready") else {
            server.stop()
            throw TestFailure("the Python test servers did not start")
        }
        let ports = line.split(separator: " ").dropFirst().compactMap { UInt16($0) }
        return (server, ports)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
