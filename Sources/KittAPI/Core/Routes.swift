import KittHTTP

/// Every route of the v1 API, in one place.
public enum Routes {
    /// `services`: built once with the context (`Services(context:)`); its campaign runner is
    /// the one the caller starts and stops.
    public static func makeRouter(context: APIContext, services: Services) -> Router {
        var router = Router()
        HealthRoutes.register(in: &router, context: context)
        EventRoutes.register(in: &router, context: context)
        ResultsRoutes.register(in: &router, context: context, services: services)
        // These take their store work off the loop themselves (services, StoreWork, Devon's queue).
        AgentTokenRoutes.register(in: &router, context: context, services: services)
        AgentRoutes.register(in: &router, context: context, services: services)
        QuickTestRoutes.register(in: &router, context: context, services: services)
        CampaignRoutes.register(in: &router, context: context, services: services)
        EngineRoutes.register(in: &router, context: context, services: services)
        DevonRoutes.register(in: &router, context: context)
        // The routes below still call the store (or the disk) synchronously: they run off the loop.
        router.wrapHandler = OffLoop.wrapper(context.store)
        AgentBundleRoutes.register(in: &router, context: context, services: services)
        ModelsRoutes.register(in: &router, context: context)
        MetricsRoutes.register(in: &router, context: context)
        ReferenceRoutes.register(in: &router, context: context)
        router.wrapHandler = nil
        return router
    }
}
