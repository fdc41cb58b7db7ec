import Foundation
@_spi(Fuzzing) import ColumnStore

/// The store's JSON files: a table's `manifest.json` and `store.json`, decoded and checked as `Store.open` does.
enum StoreFileTargets {
    static func manifest(_ input: [UInt8]) { _ = StoreFileFuzzing.decodeManifest(input) }
    static func storeIdentity(_ input: [UInt8]) { _ = StoreFileFuzzing.decodeStoreIdentity(input) }
}
