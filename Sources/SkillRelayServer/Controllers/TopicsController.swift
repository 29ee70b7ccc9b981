import Hummingbird
import SkillRelayDomain

/// Topics: anyone signed in reads; admins create, change and alias.
struct TopicsController {
    let store: any DirectoryStore

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("topics", use: list)
        group.post("topics", use: create)
        group.get("topics/:topic", use: show)
        group.patch("topics/:topic", use: update)
        group.post("topics/:topic/aliases", use: addAlias)
        group.delete("topics/:topic/aliases/:alias", use: removeAlias)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> PageResponse<TopicResponse> {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .readTopics)
        let page = try request.pageRequest(for: .topics)
        let query = try request.queryText("q")
        return PageResponse(try await store.topicPage(matching: query, page: page), TopicResponse.init)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> TopicDetailResponse {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .readTopics)
        return TopicDetailResponse(try await store.topic(try context.parameters.require("topic")))
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<TopicDetailResponse> {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        let body = try await request.decodeJSON(as: CreateTopicRequest.self, context: context)
        let detail = try await store.createTopic(body.topic, by: caller)
        return EditedResponse(status: .created, headers: [.location: "/v1/topics/\(detail.topic.slug)"], response: TopicDetailResponse(detail))
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> TopicDetailResponse {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        let body = try await request.decodeJSON(as: UpdateTopicRequest.self, context: context)
        return TopicDetailResponse(try await store.updateTopic(try context.parameters.require("topic"), with: body.patch, by: caller))
    }

    @Sendable func addAlias(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<TopicDetailResponse> {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        let body = try await request.decodeJSON(as: AddAliasRequest.self, context: context)
        let detail = try await store.addAlias(body.alias, to: try context.parameters.require("topic"), by: caller)
        return EditedResponse(status: .created, response: TopicDetailResponse(detail))
    }

    @Sendable func removeAlias(_ request: Request, context: APIRequestContext) async throws -> TopicDetailResponse {
        let caller = try context.requireCaller()
        let detail = try await store.removeAlias(
            try context.parameters.require("alias"), from: try context.parameters.require("topic"), by: caller)
        return TopicDetailResponse(detail)
    }
}
