// The Glean JavaScript SDK as an application uses it, pointed at steward by
// internal/server/glean_browser_test.go. Metric and ping definitions match
// metrics.yaml and pings.yaml beside this file.
import Glean from "@mozilla/glean/web";
import CounterMetricType from "@mozilla/glean/private/metrics/counter";
import StringMetricType from "@mozilla/glean/private/metrics/string";
import BooleanMetricType from "@mozilla/glean/private/metrics/boolean";
import DatetimeMetricType from "@mozilla/glean/private/metrics/datetime";
import EventMetricType from "@mozilla/glean/private/metrics/event";
import LabeledMetricType from "@mozilla/glean/private/metrics/labeled";
import PingType from "@mozilla/glean/private/ping";

const common = { category: "toolbar", sendInPings: ["custom-e2e"], lifetime: "ping", disabled: false };
const custom = new PingType({ name: "custom-e2e", includeClientId: true, sendIfEmpty: false, reasonCodes: ["done"] });

window.runGlean = (endpoint) => {
  Glean.initialize("steward-e2e", true, { serverEndpoint: endpoint, appDisplayVersion: "1.2", channel: "test" });
  new CounterMetricType({ ...common, name: "clicks" }).add(3);
  new StringMetricType({ ...common, name: "theme" }).set("dark");
  new BooleanMetricType({ ...common, name: "pinned" }).set(true);
  new DatetimeMetricType({ ...common, name: "opened_at" }, "minute").set(new Date(Date.UTC(2026, 10, 22, 12, 34, 56)));
  new LabeledMetricType({ ...common, name: "opened" }, CounterMetricType, ["menu", "keyboard"])["menu"].add(2);
  // Not in the approved registry: dropped and counted by steward.
  new CounterMetricType({ ...common, name: "unreviewed" }).add(1);
  new EventMetricType({ ...common, name: "picked" }, ["source"]).record({ source: "menu" });
  custom.submit("done");
  window.gleanSubmitted = true;
};

window.stopGlean = () => Glean.setUploadEnabled(false);
