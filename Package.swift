// swift-tools-version:6.0
// Freshet: keeps a column-store copy of PostgreSQL fresh through logical replication.
// No Swift package dependencies: Foundation, XCTest, libpq and liblz4 only.
import PackageDescription

let package = Package(
    name: "Freshet",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "freshet", targets: ["freshet"]),
        .library(name: "Freshet", targets: ["Freshet"]),
    ],
    targets: [
        // C libraries, wrapped as system-library targets.
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),

        // Modules, lowest first. Arrows point one way only (see DESIGN.md).
        .target(name: "PostgresReplication", dependencies: ["CLibPQ"]),
        .target(name: "Parquet", dependencies: ["CLZ4"]),
        .target(name: "ColumnStore", dependencies: ["Parquet"]),
        .target(name: "Freshet", dependencies: ["PostgresReplication", "ColumnStore"]),
        .executableTarget(name: "freshet", dependencies: ["Freshet", "ColumnStore", "PostgresReplication"]),

        // Tests. TestSupport finds the sandbox Postgres and the Python reader.
        .target(name: "TestSupport", dependencies: ["PostgresReplication"], path: "Tests/TestSupport"),
        .testTarget(name: "PostgresReplicationTests", dependencies: ["PostgresReplication", "TestSupport"]),
        .testTarget(name: "ParquetTests", dependencies: ["Parquet", "TestSupport"]),
        .testTarget(name: "ColumnStoreTests", dependencies: ["ColumnStore", "TestSupport"]),
        .testTarget(name: "FreshetTests", dependencies: ["Freshet", "TestSupport"]),
        .executableTarget(name: "bench-decoder", dependencies: ["PostgresReplication"], path: "Tools/BenchDecoder"),
        .executableTarget(name: "bench-parquet", dependencies: ["Parquet"], path: "Tools/BenchParquet"),
        .executableTarget(name: "store-torture", dependencies: ["ColumnStore"], path: "Tests/StoreTorture"),
        // libFuzzer targets (Tools/fuzz builds them with -sanitize=fuzzer,address; a plain build replays inputs).
        .executableTarget(name: "freshet-fuzz", dependencies: ["Freshet", "ColumnStore", "Parquet", "PostgresReplication"],
                          path: "Tests/Fuzz"),
    ]
)
