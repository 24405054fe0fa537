from openclaw_compose.cli import main

main()
