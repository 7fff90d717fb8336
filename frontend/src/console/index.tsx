// The agent console: Preact app mounted into #app (served by src/tresen/web/console.py).
import { render } from "preact";
import { App } from "./App";
import "./console.css";

render(<App />, document.getElementById("app")!);
