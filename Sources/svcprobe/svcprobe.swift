import ArgumentParser
import Capture
import Glibc
import KubeInputs
import MetricsSink
import PacketCore
import SvcProbeKit
import ToolSupport

/// `svcprobe`: does IP:port answer, how fast, and what does the MySQL/MariaDB server say, without getting
/// the client's address blocked by `max_connect_errors`.
@main
struct SvcProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svcprobe",
        abstract: "Probe TCP services and decode what a MySQL or MariaDB server says, without getting blocked.",
        discussion: SvcProbeHelp.svcProbe,
        version: VipscopeVersion.string)

    /// A usage error is one line plus the `--help` hint (ToolSupport.CommandRunner).
    static func main() { CommandRunner.main(Self.self) }

    @Argument(help: ArgumentHelp("Targets: HOST:PORT, [IPv6]:PORT, HOST (port 3306), HOST:LOW-HIGH.", valueName: "target"))
    var targets: [String] = []

    // Numeric options are read as text (`.unconditional`: `-5` is a value, not an option) and checked in
    // validate() against their ranges, so a negative or absurd value is a usage error, never a trap.
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Give up on a step after this long (1ms to 3600s; e.g. 500ms, 3s).", valueName: "duration"))
    var timeout = "3s"

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "After a timeout waiting for the greeting, keep the connection this long (0 to 3600s) to finish the login.",
        valueName: "duration"))
    var linger = "10s"

    @Option(parsing: .unconditional, help: ArgumentHelp("Probes in flight at once (1 to 65536).", valueName: "n"))
    var concurrency = "256"

    @Option(help: ArgumentHelp("The user name in the polite login (empty password).", valueName: "name"))
    var user = "svcprobe"

    @Flag(help: "Close right after the greeting, as nmap and curl do (counts against max_connect_errors).")
    var closeAfterGreeting = false

    @Flag(help: "Exit 10 if a target did not answer, 11 if it answered with an ERR packet.")
    var expectUp = false

    @Option(help: ArgumentHelp(
        "Exit 12 unless every greeting's version (without the 5.5.5- prefix) matches this regular expression.",
        valueName: "regex"))
    var expectVersion: String?

    @Flag(help: "After the greeting, switch to TLS (SSLRequest) and report version, cipher, certificate.")
    var tls = false

    @Flag(help: "Check the certificate (chain, expiry, name); exit 14 if it fails. Implies --tls.")
    var tlsVerify = false

    @Option(help: ArgumentHelp("Trust the CA certificates in this PEM file for --tls-verify (implies it).",
        valueName: "file"))
    var tlsCa: String?

    @Option(help: ArgumentHelp("The server name for SNI and --tls-verify (default: the target's name).",
        valueName: "name"))
    var tlsName: String?

    @Flag(help: "Exit 13 if a greeting does not offer TLS, 14 if the handshake fails. Implies --tls.")
    var expectTls = false

    @Flag(help: "Probe again and again; print a timeline of up/down changes with outage lengths.")
    var watch = false

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Time between probe rounds in --watch mode (1ms to 86400s).", valueName: "duration"))
    var interval = "1s"

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Stop --watch after this long (1ms to 31622400s; default: until Ctrl-C).", valueName: "duration"))
    var duration: String?

    @Option(name: [.customShort("r"), .customLong("read")], help: ArgumentHelp(
        "Find the MySQL handshakes in this pcap/pcapng file instead of probing. Repeatable.", valueName: "file"))
    var files: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "The server port to look for in -r captures (1 to 65535).", valueName: "port"))
    var port = "3306"

    @Option(name: [.customShort("f"), .customLong("filter")], help: ArgumentHelp(
        "An extra BPF filter for -r captures.", valueName: "expr"))
    var filter: String?

    @Flag(help: "Print JSON Lines instead of text (docs/json.md).")
    var json = false

    @OptionGroup var node: NodeNameOptions

    @OptionGroup var metrics: MetricsOptions

    @Option(help: ArgumentHelp(
        "LoadBalancer Services (kubectl get svc -A -o json): probe every IP on each of its TCP ports, the Service "
            + "named in the metrics.", valueName: "file"))
    var services: String?

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Add capability, status and login details.")
    var verbose = false

    func validate() throws {
        if targets.isEmpty && files.isEmpty && services == nil {
            throw ValidationError(
                "Give targets to probe (HOST:PORT ...), --services FILE, or a capture to read with -r FILE.")
        }
        if (!targets.isEmpty || services != nil) && !files.isEmpty {
            throw ValidationError("Probe targets or read captures (-r), not both.")
        }
        _ = try Self.checked(DurationText.validated(timeout, option: "--timeout", range: Limits.timeout, example: "500ms"))
        _ = try Self.checked(DurationText.validated(linger, option: "--linger", range: Limits.linger, example: "10s"))
        _ = try Self.checked(DurationText.validated(interval, option: "--interval", range: Limits.interval, example: "200ms"))
        if let duration {
            _ = try Self.checked(DurationText.validated(duration, option: "--duration", range: Limits.duration, example: "60s"))
        }
        _ = try Self.checked(NumberText.validated(concurrency, option: "--concurrency", range: 1...65_536))
        _ = try Self.checked(NumberText.validated(port, option: "--port", range: 1...65_535))
        if duration != nil && !watch { throw ValidationError("--duration applies to --watch only.") }
        if watch && !files.isEmpty { throw ValidationError("--watch probes live targets; it cannot read captures.") }
        if metrics.listen != nil && !watch {
            throw ValidationError(
                "--metrics-listen serves while svcprobe --watch runs (for one round of probes, --metrics-file FILE).")
        }
        if metrics.isRequested && !files.isEmpty {
            throw ValidationError("The metrics are of live probes, not of -r captures.")
        }
        if let expectVersion, (try? Regex(expectVersion)) == nil {
            throw ValidationError("--expect-version '\(expectVersion)' is not a valid regular expression.")
        }
        if user.isEmpty || user.utf8.contains(0) { throw ValidationError("--user must be a non-empty name.") }
        if !files.isEmpty && (tls || tlsVerify || tlsCa != nil || tlsName != nil || expectTls) {
            throw ValidationError("The --tls options apply to live probes, not to -r captures.")
        }
        if let tlsName, tlsName.isEmpty || tlsName.utf8.contains(0) {
            throw ValidationError("--tls-name must be a non-empty name.")
        }
        for target in targets {
            do { _ = try ProbeTarget.parse(target) } catch { throw ValidationError("Bad target \(error)") }
        }
    }

    /// The allowed ranges of the duration options, in nanoseconds (named in their usage errors).
    enum Limits {
        static let timeout: ClosedRange<Int64> = 1_000_000...3_600_000_000_000
        static let linger: ClosedRange<Int64> = 0...3_600_000_000_000
        static let interval: ClosedRange<Int64> = 1_000_000...86_400_000_000_000
        static let duration: ClosedRange<Int64> = 1_000_000...31_622_400_000_000_000
    }

    static func checked<Value>(_ result: Result<Value, DurationError>) throws -> Value {
        switch result {
        case .success(let value): return value
        case .failure(let error): throw ValidationError(error.description)
        }
    }

    // After validate(): the checked values.
    var timeoutNanoseconds: Int64 { DurationText.nanoseconds(timeout) ?? 3_000_000_000 }
    var lingerNanoseconds: Int64 { DurationText.nanoseconds(linger) ?? 10_000_000_000 }
    var intervalNanoseconds: Int64 { DurationText.nanoseconds(interval) ?? 1_000_000_000 }
    var durationNanoseconds: Int64? { duration.flatMap(DurationText.nanoseconds) }
    var concurrencyValue: Int { Int(concurrency) ?? 256 }
    var portValue: UInt16 { UInt16(port) ?? 3306 }

    func run() throws {
        let output = ProbeOutput(sink: json ? ProbeJSONSink(envelope: node.envelope) : ProbeTextSink(verbose: verbose))
        output.start()
        if !files.isEmpty {
            let status = ProbePipeline.readCaptures(files, port: portValue, filter: filter, output: output)
            if status != ExitStatus.ok { throw ExitCode(status) }
            return
        }
        var parsed: [ProbeTarget] = []
        for target in targets { parsed += (try? ProbeTarget.parse(target)) ?? [] }
        // --services: every assigned or requested IP on each TCP port of its Service, in the inventory's order.
        var serviceOf: [ProbeTarget: String] = [:]
        if let services {
            let inventory: ServiceInventory
            do { inventory = try ServiceInventory.read(file: services) } catch {
                StandardStreams.error("svcprobe: \(PrintableText.escaped(error.description))")
                throw ExitCode(ExitStatus.failure)
            }
            for service in inventory.services {
                for ip in service.expectedIPs {
                    for port in service.ports where port.transport == "TCP" {
                        let target = ProbeTarget(host: "\(ip)", port: port.port)
                        if serviceOf[target] == nil && !parsed.contains(target) { parsed.append(target) }
                        serviceOf[target] = serviceOf[target] ?? service.qualifiedName
                    }
                }
            }
            if parsed.isEmpty {
                StandardStreams.error("svcprobe: --services \(PrintableText.escaped(services)): no LoadBalancer Service "
                    + "has an IP with a TCP port to probe")
                throw ExitCode(ExitStatus.failure)
            }
        }
        var options = ProbeOptions()
        options.timeoutNanoseconds = timeoutNanoseconds
        options.lingerNanoseconds = lingerNanoseconds
        options.concurrency = concurrencyValue
        options.login = closeAfterGreeting ? .closeAfterGreeting : .polite(user: user)
        options.tls.enabled = tls || tlsVerify || tlsCa != nil || tlsName != nil || expectTls
        options.tls.verify = tlsVerify || tlsCa != nil
        options.tls.caFile = tlsCa
        options.tls.serverName = tlsName
        if options.tls.enabled, let problem = Prober.checkTLS(options.tls) {
            StandardStreams.error("svcprobe: \(problem).")
            throw ExitCode(ExitStatus.failure)
        }
        let expect = ProbeExpectations(
            expectUp: expectUp, expectVersion: expectVersion.flatMap { try? Regex($0) }, expectTLS: expectTls)
        // Metrics: a series set per target; refreshed by every result, written to --metrics-file at most once a
        // second while watching and once at the end.
        var publisher: MetricsPublisher?
        var model: SvcMetrics?
        if metrics.isRequested {
            let made = SvcMetrics(node: node.resolved, targets: parsed, services: serviceOf)
            do {
                publisher = try MetricsPublisher(metrics, registry: made.registry)
            } catch {
                StandardStreams.error("svcprobe: \(error.message)")
                throw ExitCode(ExitStatus.failure)
            }
            model = made
        }
        let publish: (Bool) -> Void = { force in
            if let failure = publisher?.publish(force: force, refresh: {}) {
                StandardStreams.error("svcprobe: \(PrintableText.escaped(failure))")
            }
        }
        let observe: (ProbeResult) -> Void = { result in
            model?.observe(result)
            publish(false)
        }
        let status: Int32
        if watch {
            StopSignal.install()
            publisher?.start()
            status = ProbePipeline.watch(
                parsed, options: options, expect: expect, intervalNanoseconds: intervalNanoseconds,
                durationNanoseconds: durationNanoseconds, shouldStop: { StopSignal.isRaised }, output: output,
                observe: observe)
        } else {
            status = ProbePipeline.probeOnce(parsed, options: options, expect: expect, output: output, observe: observe)
        }
        publish(true)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }
}
