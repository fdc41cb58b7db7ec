import Foundation
import Freshet

/// The config file loader (`freshet run --config`), with a fixed environment so `${VAR}` references resolve the
/// same way on every run.
enum ConfigTarget {
    static let environment = ["FRESHET_SOURCE": "postgresql://u@127.0.0.1/db", "HOME": "/nonexistent"]

    static func run(_ input: [UInt8]) {
        _ = try? Config.parse(json: Data(input), environment: environment)
    }
}
