# The gateway's container image, as the Helm chart (charts/ai-gateway) runs it. Build from the repository root:
#   docker build -t registry.example.internal/platform/ai-gateway:0.1.0 .
# Build stage: the .NET SDK restores and publishes the gateway (and the transforms library it references).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props ./
COPY gateway/Gateway.csproj gateway/
COPY transforms/Gateway.Transforms.csproj transforms/
RUN dotnet restore gateway/Gateway.csproj
COPY gateway/ gateway/
COPY transforms/ transforms/
RUN dotnet publish gateway/Gateway.csproj -c Release -o /app/publish --no-restore -p:UseAppHost=false

# Runtime stage: ASP.NET Core on a chiseled image (no shell, no package manager), as the non-root "app" user (1654).
# config/ is the default config folder and the mount point of the chart's ConfigMap. No HEALTHCHECK: Kubernetes probes
# /healthz/live and /healthz/ready. `validate-config` and `keys new` run from the same image:
#   docker run --rm -v "$PWD/config:/app/config:ro" <image> validate-config /app/config
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app/publish ./
COPY config/ ./config/
ENV ASPNETCORE_URLS=http://+:8080 \
    Gateway__ConfigDirectory=/app/config \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
USER 1654
EXPOSE 8080
ENTRYPOINT ["dotnet", "Gateway.dll"]
