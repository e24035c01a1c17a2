from onenet_apply.console import main

main()
