import Hummingbird
import SkillRelayDomain

/// The request context: the core storage and the caller the authentication middleware found, nothing else.
public struct APIRequestContext: RequestContext {
    /// The largest JSON body the API reads.
    public static let bodyLimit = 64 * 1024

    public var coreContext: CoreRequestContextStorage
    /// Who is calling, once a bearer token was verified.
    public var caller: Caller?

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { Self.bodyLimit }

    /// The verified caller, or `unauthenticated`.
    public func requireCaller() throws -> Caller {
        guard let caller else { throw DirectoryError.unauthenticated }
        return caller
    }
}
