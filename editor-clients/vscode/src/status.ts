/** The status bar item: what the server is doing, and whether completions are on. */

import * as vscode from "vscode";

/** The body of the server's `pairline/status` notification. */
export type ServerStatus = { state: "loading" | "ready" | "error"; message?: string; model?: string };

export type State =
  | { kind: "starting" }
  | { kind: "loading"; message: string }
  | { kind: "ready"; model: string }
  | { kind: "error"; message: string }
  | { kind: "installing"; message: string }
  | { kind: "missing" }
  | { kind: "stopped" };

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: State = { kind: "starting" };
  private enabled = true;

  constructor(
    private readonly showLogCommand: string,
    private readonly toggleCommand: string,
    private readonly setUpCommand: string,
  ) {
    this.item = vscode.window.createStatusBarItem("pairline.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "pairline";
    this.render();
    this.item.show();
  }

  set(state: State): void {
    this.state = state;
    this.render();
  }

  fromServer(status: ServerStatus): void {
    const message = status.message ?? "";
    switch (status.state) {
      case "loading":
        this.set({ kind: "loading", message: message || "loading the model" });
        break;
      case "ready":
        this.set({ kind: "ready", model: status.model ?? "" });
        break;
      case "error":
        this.set({ kind: "error", message: message || "the model could not be loaded" });
        break;
    }
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.render();
  }

  private render(): void {
    const item = this.item;
    item.backgroundColor = undefined;
    let label: string;
    switch (this.state.kind) {
      case "starting":
        item.text = "$(loading~spin) pairline";
        label = "starting";
        item.tooltip = "pairline: starting the server";
        item.command = this.showLogCommand;
        break;
      case "loading":
        item.text = "$(loading~spin) pairline";
        label = "loading";
        item.tooltip = `pairline: ${this.state.message}`;
        item.command = this.showLogCommand;
        break;
      case "ready":
        item.text = this.enabled ? "$(check) pairline" : "$(circle-slash) pairline";
        label = this.enabled ? "ready" : "disabled";
        item.tooltip = this.enabled
          ? `pairline: ${this.state.model} ready. Click to turn inline completions off.`
          : "pairline: inline completions are off. Click to turn them on.";
        item.command = this.toggleCommand;
        break;
      case "error":
        item.text = "$(error) pairline";
        label = "error";
        item.tooltip = `pairline: ${this.state.message}. Click for the log.`;
        item.command = this.showLogCommand;
        item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
        break;
      case "installing":
        item.text = "$(loading~spin) pairline";
        label = "setting up the server";
        item.tooltip = `pairline: setting up the server: ${this.state.message}`;
        item.command = this.showLogCommand;
        break;
      case "missing":
        item.text = "$(warning) pairline";
        label = "server not set up";
        item.tooltip = "pairline: no server is set up. Click to set one up.";
        item.command = this.setUpCommand;
        item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
        break;
      case "stopped":
        item.text = "$(debug-stop) pairline";
        label = "stopped";
        item.tooltip = "pairline: the server is not running. Click for the log.";
        item.command = this.showLogCommand;
        item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
        break;
    }
    if (!this.enabled && this.state.kind !== "ready") {
      label += ", completions off";
    }
    item.accessibilityInformation = { label: `pairline: ${label}` };
  }

  dispose(): void {
    this.item.dispose();
  }
}
