// swift-tools-version: 6.0
// vipscope: packet-level evidence for bare-metal Kubernetes LoadBalancer IPs.
// Layout (see README.md, "Architecture"): PacketCore is the pure-Swift decoding core; CPcap/CNetlink are
// thin system-library shims; Capture wraps libpcap; executables stay thin.
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "vipscope",
    products: [
        .library(name: "PacketCore", targets: ["PacketCore"]),
        .library(name: "Capture", targets: ["Capture"]),
        .executable(name: "vipdump", targets: ["vipdump"]),
        .executable(name: "garpwatch", targets: ["garpwatch"]),
        .executable(name: "bgpdecode", targets: ["bgpdecode"]),
        .executable(name: "addrinspect", targets: ["addrinspect"]),
        .executable(name: "svcprobe", targets: ["svcprobe"]),
    ],
    dependencies: [
        // Typed, tested, self-documenting command lines for every executable.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // YAML for MetalLB's custom resources (MetalLBInputs only): libyaml inside, no other dependency.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The Prometheus text exposition for --metrics-listen (MetricsSink only); brings swift-metrics' CoreMetrics
        // and swift-atomics.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Pure Swift, no I/O, no dependencies: every frame decoder, address types, TCP reassembly.
        .target(name: "PacketCore"),

        // System libraries: a module map and a shim header each, nothing else.
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CNetlink", pkgConfig: "libnl-route-3.0", providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // glibc's <malloc.h> (mallopt), part of libc: nothing to link.
        .systemLibrary(name: "CMalloc"),
        // A cache prefetch hint (__builtin_prefetch) for hash tables probed once per route.
        .systemLibrary(name: "CPrefetch"),

        // libpcap wrapper: offline files, live interfaces, BPF filters, statistics, pcap writing.
        .target(name: "Capture", dependencies: ["CPcap", "PacketCore"]),

        // Shared by the tools: JSON Lines, exit statuses, stderr, signals, number formatting. No libpcap, so
        // tools that do not capture (addrinspect) do not load it.
        .target(name: "ToolSupport", dependencies: ["PacketCore", argumentParser]),
        // The one run loop the live tools share: poll over descriptors with monotonic deadlines, and the
        // sockaddr_in/in6 <-> IPAddress helpers. Only the core below it, so the libnl wrapper can use it too; the
        // stop signal (ToolSupport.StopSignal) is checked by each loop between turns.
        .target(name: "EventLoop", dependencies: ["PacketCore"]),
        // --metrics-listen: a small HTTP responder (/metrics, /healthz) on its own thread over swift-prometheus's
        // registry, and the label conventions of deploy/METRICS.md. Each Kit maps its model onto it.
        .target(
            name: "MetricsSink",
            dependencies: [
                "PacketCore", "EventLoop", .product(name: "Prometheus", package: "swift-prometheus"), argumentParser,
            ]),
        // -r/-i/--filter/--duration/--count as one argument group, for the tools that read captures.
        .target(name: "CaptureCLI", dependencies: ["Capture", "ToolSupport", argumentParser]),

        // Decode every frame of a capture through the core and print one line per frame.
        .executableTarget(
            name: "vipdump", dependencies: ["PacketCore", "Capture", "CaptureCLI", "ToolSupport", argumentParser]),

        // garpwatch: who announces each IP (ARP, NDP), failover timing, split-brain. Logic in the Kit.
        .target(name: "GarpWatchKit", dependencies: ["PacketCore", "ToolSupport", "MetricsSink", "CPrefetch"]),
        .executableTarget(
            name: "garpwatch",
            dependencies: [
                "GarpWatchKit", "MetricsSink", "KubeInputs", "ToolSupport", "CaptureCLI", "Capture", "PacketCore",
                argumentParser,
            ]),

        // bgpdecode: BGP from captures, MRT and a passive listener; per-session RIBs. BGP/MRT parsers are
        // in PacketCore; sessions, RIBs and rendering in the Kit.
        // Release builds skip the run-time exclusivity checks here: the analyzer is a class whose state
        // every message touches, and the checks were 7% of the run time of a full table (perf). Debug
        // builds, which the tests run, keep them.
        .target(
            name: "BGPDecodeKit", dependencies: ["PacketCore", "Capture", "ToolSupport", "CPrefetch", "MetricsSink"],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .executableTarget(
            name: "bgpdecode",
            dependencies: [
                "BGPDecodeKit", "MetricsSink", "ToolSupport", "Capture", "CaptureCLI", "PacketCore", "CMalloc",
                "KubeInputs", "MetalLBInputs", argumentParser,
            ],
            // Its event closure runs once per route: as for BGPDecodeKit, no run-time exclusivity checks in
            // release builds.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),

        // addrinspect: addresses, neighbours, routes and links through libnl-3.
        .target(name: "Netlink", dependencies: ["CNetlink", "PacketCore", "EventLoop"]),
        // The commands' work, the events and their sinks (text, JSON Lines), `has` rendering: all in the Kit; the
        // executable parses arguments and wires a source to a sink.
        .target(name: "AddrInspectKit", dependencies: ["Netlink", "EventLoop", "ToolSupport", "PacketCore", "MetricsSink"]),
        .executableTarget(
            name: "addrinspect",
            dependencies: [
                "AddrInspectKit", "Netlink", "EventLoop", "ToolSupport", "PacketCore", "MetricsSink", "KubeInputs",
                argumentParser,
            ]),

        // svcprobe: TCP probes and MySQL/MariaDB greetings. The MySQL parsers are in PacketCore.
        .target(
            name: "SvcProbeKit", dependencies: ["PacketCore", "Capture", "ToolSupport", "EventLoop", "COpenSSL", "MetricsSink"]),
        .executableTarget(
            name: "svcprobe",
            dependencies: ["SvcProbeKit", "MetricsSink", "KubeInputs", "ToolSupport", "Capture", "PacketCore", argumentParser]),

        // Kubernetes inputs: LoadBalancer Services and Nodes from kubectl's JSON, turned into the expectations the
        // tools check. Bounded against hostile files. FoundationEssentials only (JSONDecoder), never Foundation:
        // garpwatch links it and stays a ~25 MB binary instead of 74 MB.
        .target(name: "KubeInputs", dependencies: ["PacketCore"]),
        // MetalLB's custom resources from YAML, on KubeInputs' types and limits. Apart because Yams imports
        // Foundation: only what reads MetalLB's YAML pays for it.
        .target(
            name: "MetalLBInputs",
            dependencies: ["KubeInputs", "PacketCore", .product(name: "Yams", package: "Yams")]),

        // The measuring half of scripts/bench-core: a bare libpcap loop versus the core's full decode.
        .executableTarget(name: "corebench", dependencies: ["PacketCore", "Capture"]),

        // Shared by the test targets: one child-process runner, the built tools' paths, the repository's
        // inputs, CI/root detection, a seeded generator, a capture file decoded frame by frame.
        .target(name: "TestSupport", dependencies: ["Capture", "PacketCore"], path: "Tests/TestSupport"),
        .testTarget(name: "PacketCoreTests", dependencies: ["PacketCore", "TestSupport"]),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "PacketCore", "ToolSupport", "TestSupport"]),
        // Recorded captures (captures/) against the values tshark decoded at recording time, and every
        // capture of tcpdump's own test suite (Tests/Corpus/tcpdump) through the core without a crash.
        .testTarget(name: "GoldenTests", dependencies: ["Capture", "PacketCore", "TestSupport"]),
        .testTarget(
            name: "ToolSupportTests", dependencies: ["ToolSupport", "EventLoop", "PacketCore", "Capture", "TestSupport"]),
        .testTarget(name: "MetricsSinkTests", dependencies: ["MetricsSink", "PacketCore", "TestSupport"]),
        .testTarget(
            name: "GarpWatchTests",
            dependencies: ["GarpWatchKit", "MetricsSink", "PacketCore", "Capture", "ToolSupport", "TestSupport"]),
        .testTarget(
            name: "BGPDecodeTests", dependencies: ["BGPDecodeKit", "PacketCore", "Capture", "ToolSupport", "TestSupport"]),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "PacketCore", "ToolSupport", "TestSupport"]),
        .testTarget(
            name: "SvcProbeTests", dependencies: ["SvcProbeKit", "PacketCore", "Capture", "ToolSupport", "TestSupport"]),
        .testTarget(name: "KubeInputsTests", dependencies: ["KubeInputs", "MetalLBInputs", "PacketCore", "TestSupport"],
                    exclude: ["Inputs", "oracle.py"]),
        // The deploy/ manifests against their contract, and the alert rules through promtool.
        .testTarget(
            name: "DeployTests",
            dependencies: [
                "KubeInputs", "MetalLBInputs", "PacketCore", "TestSupport", .product(name: "Yams", package: "Yams"),
            ]),
        // Fuzz seeds and regression inputs replayed, resource bounds under hostile input, and every capture
        // decoded by us and by tshark with the fields compared.
        .testTarget(
            name: "RobustnessTests", dependencies: ["PacketCore", "Capture", "BGPDecodeKit", "GarpWatchKit", "TestSupport"]),
    ]
)
