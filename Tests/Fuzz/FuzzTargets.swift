import Foundation

/// The targets by name: each takes one input and must return without trapping, whatever the bytes.
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "pgoutput": PgOutputTarget.run,
        "copy": CopyTarget.run,
        "thrift": ThriftTarget.run,
        "parquet": ParquetTarget.run,
        "manifest": StoreFileTargets.manifest,
        "store-json": StoreFileTargets.storeIdentity,
        "config": ConfigTarget.run,
    ]

    /// The target FRESHET_FUZZ_TARGET names.
    static let name = ProcessInfo.processInfo.environment["FRESHET_FUZZ_TARGET"] ?? ""
    static let selected = all[name]
}

/// libFuzzer's per-input entry point (also used by the replay path).
@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.selected?(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
