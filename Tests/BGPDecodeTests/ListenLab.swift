import Foundation
import Synchronization
import TestSupport
import Testing

/// Network namespaces, veth pairs and daemons for the listen and live-capture tests. Names start with
/// `bl` and this process's id; `tearDown` (called from `defer`) stops every process started here by its
/// PID and deletes every namespace, also when a test fails.
final class ListenLab {
    let prefix: String
    /// Namespace names start with this (the interface-name prefix unless a test names its own, like
    /// `vs-bgp-` for tests that must not share a prefix with other labs running on the machine).
    let namespacePrefix: String
    let directory: URL
    private(set) var namespaces: [String] = []
    private(set) var processes: [Process] = []

    /// Labs started by this test process so far.
    private static let labs = Atomic<Int>(0)

    static func prerequisites() throws {
        for tool in ["/usr/sbin/bird", "/usr/sbin/birdc", "/usr/sbin/ip"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing (scripts/setup)")
        }
        try #require(getuid() == 0, "the listen lab needs root (namespaces, port 179)")
    }

    init(namespacePrefix: String? = nil) throws {
        try Self.prerequisites()
        // The PID keeps parallel runs apart, a counter the labs of one run (a random number collided: two
        // suites running at once shared a directory and one deleted the other's BIRD configuration). Interface
        // names stay within 15 bytes.
        let prefix = "bl\(getpid() % 100_000)r\(Self.labs.add(1, ordering: .relaxed).oldValue % 100)"
        self.prefix = prefix
        self.namespacePrefix = (namespacePrefix ?? "") + prefix
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func tearDown() {
        for process in processes.reversed() where process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for namespace in namespaces { _ = try? Self.run("/usr/sbin/ip", ["netns", "del", namespace]) }
        // BL_KEEP_LAB=1 keeps the daemons' configurations and logs for a post-mortem.
        if ProcessInfo.processInfo.environment["BL_KEEP_LAB"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try ChildProcess.run([tool] + arguments)
        return (result.status, result.standardOutput + result.standardError)
    }

    func ip(_ arguments: String) throws {
        let result = try Self.run("/usr/sbin/ip", arguments.split(separator: " ").map(String.init))
        try #require(result.status == 0, "ip \(arguments): \(result.output)")
    }

    func namespace(_ suffix: String) throws -> String {
        let name = namespacePrefix + suffix
        try ip("netns add \(name)")
        namespaces.append(name)
        try ip("-n \(name) link set lo up")
        return name
    }

    /// A veth pair between two namespaces, each end named `eth` + index, with these addresses.
    func link(
        _ a: String, _ aIndex: Int, _ aAddresses: [String], _ b: String, _ bIndex: Int, _ bAddresses: [String]
    ) throws {
        let x = "\(prefix)x\(aIndex)\(bIndex)"
        let y = "\(prefix)y\(aIndex)\(bIndex)"
        try ip("link add \(x) type veth peer name \(y)")
        try ip("link set \(x) netns \(a)")
        try ip("link set \(y) netns \(b)")
        try ip("-n \(a) link set \(x) name eth\(aIndex)")
        try ip("-n \(b) link set \(y) name eth\(bIndex)")
        // nodad: an IPv6 address in duplicate address detection cannot be bound for a few seconds.
        for address in aAddresses {
            try ip("-n \(a) addr add \(address) dev eth\(aIndex)" + (address.contains(":") ? " nodad" : ""))
        }
        for address in bAddresses {
            try ip("-n \(b) addr add \(address) dev eth\(bIndex)" + (address.contains(":") ? " nodad" : ""))
        }
        try ip("-n \(a) link set eth\(aIndex) up")
        try ip("-n \(b) link set eth\(bIndex) up")
    }

    /// Start `tool` in `namespace` with output to files NAME.out/NAME.err in the lab directory.
    @discardableResult
    func start(_ name: String, in namespace: String, _ tool: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace, tool] + arguments
        _ = FileManager.default.createFile(atPath: path("\(name).out"), contents: nil)
        _ = FileManager.default.createFile(atPath: path("\(name).err"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: path("\(name).out"))
        process.standardError = FileHandle(forWritingAtPath: path("\(name).err"))
        try process.run()
        processes.append(process)
        return process
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func read(_ name: String) -> String { (try? String(contentsOfFile: path(name), encoding: .utf8)) ?? "" }

    /// Wait up to `seconds` for `condition`; returns whether it held.
    @discardableResult
    func waitFor(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// Wait for a started process to exit (killing it after `seconds`); returns its status.
    func exitStatus(_ process: Process, within seconds: Double) -> Int32? {
        let exited = waitFor(seconds) { !process.isRunning }
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    // MARK: BIRD

    /// BIRD 2 in `namespace` with the config body; its control socket is NAME.ctl.
    @discardableResult
    func startBird(_ name: String, in namespace: String, routerID: String, _ body: String) throws -> Process {
        let config = """
            log "\(path("\(name).log"))" all;
            router id \(routerID);
            protocol device { scan time 10; }
            \(body)
            """
        try config.write(toFile: path("\(name).conf"), atomically: true, encoding: .utf8)
        let process = try start(name, in: namespace, "/usr/sbin/bird",
            ["-f", "-c", path("\(name).conf"), "-s", path("\(name).ctl"), "-P", path("\(name).pid")])
        let up = waitFor(10) { (try? birdc(name, "show status").status) == 0 }
        try #require(up, "BIRD did not start: \(read("\(name).err"))")
        return process
    }

    @discardableResult
    func birdc(_ name: String, _ command: String) throws -> (status: Int32, output: String) {
        try Self.run("/usr/sbin/birdc", ["-s", path("\(name).ctl")] + command.split(separator: " ").map(String.init))
    }
}
