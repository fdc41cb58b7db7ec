// freshet-fuzz: libFuzzer targets for every decoder that reads outside bytes.
//
//   swift build -c debug --scratch-path .build/fuzz -Xswiftc -sanitize=fuzzer,address \
//       -Xlinker --export-dynamic-symbol=LLVMFuzzerRunDriver --product freshet-fuzz   (what Tools/fuzz runs)
//   FRESHET_FUZZ_TARGET=pgoutput .build/fuzz/debug/freshet-fuzz [libFuzzer options] [CORPUS_DIR...]
//
// Built with `-sanitize=fuzzer`, this runs libFuzzer (LLVMFuzzerRunDriver) on the target FRESHET_FUZZ_TARGET names.
// Built without it (a plain `swift build`), it replays the files given as arguments through that target, which is
// how a crashing input is checked after a fix. Tools/fuzz does both.
import Foundation

guard let selectedTarget = FuzzTargets.selected else {
    FileHandle.standardError.write(Data("freshet-fuzz: set FRESHET_FUZZ_TARGET to one of \(FuzzTargets.all.keys.sorted().joined(separator: ", "))\n".utf8))
    exit(2)
}

typealias FuzzerRunDriver = @convention(c) (UnsafeMutablePointer<CInt>,
                                            UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                                            @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

// LLVMFuzzerRunDriver exists only in a -sanitize=fuzzer build; look it up so that a plain build links too.
if let symbol = dlsym(dlopen(nil, RTLD_NOW), "LLVMFuzzerRunDriver") {
    let driver = unsafeBitCast(symbol, to: FuzzerRunDriver.self)
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(driver(&argc, &argv, { data, size in fuzz(data, size) }))
}

var replayed = 0
for path in CommandLine.arguments.dropFirst() where !path.hasPrefix("-") {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        FileHandle.standardError.write(Data("freshet-fuzz: no such file \(path)\n".utf8))
        exit(2)
    }
    let files = isDirectory.boolValue
        ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
        : [path]
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else { continue }
        selectedTarget(Array(data))
        replayed += 1
    }
}
print("freshet-fuzz: \(FuzzTargets.name): replayed \(replayed) inputs without a crash (not a fuzzer build: no fuzzing)")
