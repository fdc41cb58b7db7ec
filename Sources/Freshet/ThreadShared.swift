import Foundation

/// A flag set from one thread and read from others.
final class AtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    func clear() { lock.lock(); value = false; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// The first error of a background thread, read by the thread that waits for it.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Error?
    func set(_ e: Error) { lock.lock(); if value == nil { value = e }; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return value }
}

/// A value handed from one step to a later one, at most once: `take` returns it and forgets it.
final class HandOver<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?
    func set(_ v: Value) { lock.lock(); value = v; lock.unlock() }
    func take() -> Value? { lock.lock(); defer { lock.unlock() }; let v = value; value = nil; return v }
}
