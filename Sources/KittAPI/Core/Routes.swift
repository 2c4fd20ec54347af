import KittHTTP

/// Every route of the v1 API, in one place.
public enum Routes {
    public static func makeRouter(context: APIContext) -> Router {
        var router = Router()
        HealthRoutes.register(in: &router, context: context)
        EventRoutes.register(in: &router, context: context)
        ResultsRoutes.register(in: &router, context: context)
        // These take their store work off the loop themselves (StoreWork, writeAsync, Devon's queue).
        AgentTokenRoutes.register(in: &router, context: context)
        EngineRoutes.register(in: &router, context: context)
        DevonRoutes.register(in: &router, context: context)
        // The routes below still call the store synchronously: they run off the loop.
        router.wrapHandler = OffLoop.wrapper(context.store)
        AgentRoutes.register(in: &router, context: context)
        ModelsRoutes.register(in: &router, context: context)
        QuickTestRoutes.register(in: &router, context: context)
        CampaignRoutes.register(in: &router, context: context)
        MetricsRoutes.register(in: &router, context: context)
        ReferenceRoutes.register(in: &router, context: context)
        router.wrapHandler = nil
        return router
    }
}
