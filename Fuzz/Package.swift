// swift-tools-version:6.1

import PackageDescription

// libFuzzer targets for PulpKit's parsers and its API, kept out of the library's package: each target is a
// `LLVMFuzzerTestOneInput` without a `main` (libFuzzer brings it), so it only links with `--sanitize=fuzzer`.
// `Fuzz/run.sh TARGET SECONDS` builds and runs one; Documentation/Reliability.md explains the rest.
let package = Package(
    name: "PulpKitFuzz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fuzz-iso8601", targets: ["FuzzISO8601"]),
        .executable(name: "fuzz-criteria", targets: ["FuzzCriteria"]),
        .executable(name: "fuzz-evr", targets: ["FuzzEVR"]),
        .executable(name: "fuzz-manifest", targets: ["FuzzManifest"]),
        .executable(name: "fuzz-api", targets: ["FuzzAPI"]),
    ],
    dependencies: [.package(name: "PulpKit", path: "..")],
    targets: [
        .target(name: "FuzzCheck"),
        .executableTarget(name: "FuzzISO8601", dependencies: ["FuzzCheck", pulpKit("PulpKit")]),
        .executableTarget(name: "FuzzCriteria", dependencies: ["FuzzCheck", pulpKit("PulpKit")]),
        .executableTarget(name: "FuzzEVR", dependencies: ["FuzzCheck", pulpKit("PulpKit"), pulpKit("PulpRPM")]),
        .executableTarget(name: "FuzzManifest", dependencies: ["FuzzCheck", pulpKit("PulpKit"), pulpKit("PulpFile")]),
        .executableTarget(
            name: "FuzzAPI",
            dependencies: ["FuzzCheck", pulpKit("PulpKit"), pulpKit("PulpAPI"), pulpKit("PulpKitTesting")]
        ),
    ]
)

/// A library of the PulpKit package, the parent folder.
func pulpKit(_ product: String) -> Target.Dependency { .product(name: product, package: "PulpKit") }

for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
